import { reg } from '@kernsim/cpu-core';
import type { NmiEntry } from './nmi-entry.js';
import { PT_REGS_64 } from './build-context.js';
import { restoreAll64 } from './x86_64/restore.js';
import { restoreAll32, saveAll32 } from './i386/arch-i386.js';

/** The simplest NMI entry for each architecture, for the kernel's own tests. */
export function minimalEntry(arch: 'x86_64' | 'i386'): NmiEntry {
  return {
    id: `minimal-${arch}`,
    arch,
    title: 'test entry',
    exitFrameOffsets: [0],
    trampolines: [],
    landmarks: ['nmi'],
    emit(ctx) {
      const { a } = ctx;
      a.label('nmi');
      if (arch === 'x86_64') {
        a.push(-1);
        a.sub(reg.rsp, PT_REGS_64.origAx);
        a.call('save_paranoid');
        a.mov(reg.rdi, reg.rsp);
        a.call('do_nmi');
        a.test(reg.ebx, reg.ebx);
        a.jnz('.Lmin_restore');
        a.swapgs();
        a.label('.Lmin_restore');
        restoreAll64(ctx);
        a.iretq();
      } else {
        a.push(reg.eax);
        saveAll32(ctx);
        a.mov(reg.edi, reg.esp);
        a.call('do_nmi');
        restoreAll32(ctx);
        a.iret();
      }
    },
  };
}
