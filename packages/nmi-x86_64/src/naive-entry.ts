import type { NmiEntry } from '@kernsim/kernel';
import type { BuildContext } from '@kernsim/kernel/entry-kit';
import { emitNmiHandlerCall } from './nmi-handler-call.js';

/**
 * The x86_64 NMI entry before 3.3: the CPU has switched to the NMI IST stack (its top,
 * unconditionally), the entry saves the registers (save_paranoid decides about
 * swapgs), calls do_nmi and returns with iretq. Nothing protects it against a second
 * NMI once an exception's iret inside the handler has lifted the NMI block: that NMI
 * starts again at the same IST top and writes over this one's frames.
 */
export function naiveEntry(): NmiEntry {
  return {
    id: 'naive',
    arch: 'x86_64',
    title: 'x86_64 before 3.3: IST stack, handler, iretq',
    exitFrameOffsets: [0],
    trampolines: [],
    landmarks: ['nmi', 'nmi_swapgs', 'nmi_restore'],
    emit(ctx: BuildContext): void {
      const { a } = ctx;
      a.label('nmi');
      emitNmiHandlerCall(ctx);
      a.jmp('irq_return');
    },
  };
}
