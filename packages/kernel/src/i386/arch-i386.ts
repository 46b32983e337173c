import { dword, imm, reg } from '@kernsim/cpu-core';
import type { ArchCode } from '../arch-code.js';
import type { BuildContext } from '../build-context.js';
import { PT_REGS_32 as R } from '../build-context.js';
import { PERCPU } from '../percpu.js';
import { TASK } from '../code/show-state.js';
import { FATAL_TRAPS } from '../code/fatal-traps.js';

const pc = (f: keyof typeof PERCPU): ReturnType<typeof dword.fs> => dword.fs(PERCPU[f] * 4);

/**
 * SAVE_ALL: push the segment slots and the general registers in 3.3's order, so that
 * esp points at a `struct pt_regs` (the orig_eax slot was pushed by the caller or is
 * the CPU's error code). The segment registers themselves are not switched: this
 * kernel keeps %fs on the per-CPU area in user mode too (see the README).
 */
export function saveAll32(ctx: BuildContext): void {
  const { a } = ctx;
  a.cld();
  a.push(0).push(0).push(0).push(0); // gs, fs, es, ds
  a.push(reg.eax).push(reg.ebp).push(reg.edi).push(reg.esi).push(reg.edx).push(reg.ecx).push(reg.ebx);
}

/** RESTORE_REGS 4: pop the registers, drop the segment slots and orig_eax; esp is at the iret frame. */
export function restoreAll32(ctx: BuildContext): void {
  const { a } = ctx;
  a.pop(reg.ebx).pop(reg.ecx).pop(reg.edx).pop(reg.esi).pop(reg.edi).pop(reg.ebp).pop(reg.eax);
  a.add(reg.esp, R.ip - R.ds);
}

export function arch32(): ArchCode {
  return {
    emit(ctx: BuildContext): void {
      const { a } = ctx;
      const { eax, edi, esi, esp } = reg;
      const abs = (name: string): bigint => ctx.isa.abs(ctx.d(name));

      a.label('page_fault');
      saveAll32(ctx);
      a.mov(edi, esp);
      a.mov(dword(esp, R.origAx), -1);
      a.call('do_page_fault');
      a.jmp('restore_all');

      const fatal = (label: string, message: string, hasError: boolean): void => {
        a.label(label);
        if (!hasError) a.push(-1);
        saveAll32(ctx);
        a.mov(esi, esp);
        a.mov(edi, imm(abs(message)));
        a.call('die');
      };
      for (const t of FATAL_TRAPS) fatal(t.label, t.message, t.hasErrorCode);

      a.label('int3');
      a.push(-1);
      saveAll32(ctx);
      a.mov(edi, esp);
      a.call('do_int3');
      a.jmp('restore_all');

      // int $0x80: getpid, answered in the saved eax.
      a.label('system_call');
      a.push(eax);
      saveAll32(ctx);
      a.add(pc('syscalls'), 1);
      a.mov(eax, pc('currentTask'));
      a.mov(eax, dword(eax, TASK.pid * 4));
      a.mov(dword(esp, R.eax), eax);
      a.label('restore_all');
      restoreAll32(ctx);
      a.label('irq_return');
      a.iret();

      a.label('die');
      a.cli();
      a.push(edi);
      a.mov(edi, imm(abs('str_oops')));
      a.call('puts');
      a.pop(edi);
      a.call('puts');
      a.label('die_tail');
      a.mov(edi, imm(abs('str_rip')));
      a.call('puts');
      a.mov(edi, dword(esi, R.ip));
      a.call('put_hex');
      a.call('put_nl');
      a.label('panic_halt');
      a.hlt();
      a.jmp('panic_halt');
    },
  };
}
