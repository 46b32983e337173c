import { imm, qword, reg } from '@kernsim/cpu-core';
import type { BuildContext } from '../build-context.js';
import { PT_REGS_64 as R } from '../build-context.js';
import { PERCPU } from '../percpu.js';
import { FATAL_TRAPS } from '../code/fatal-traps.js';

const pc = (f: keyof typeof PERCPU): ReturnType<typeof qword.gs> => qword.gs(PERCPU[f] * 8);

/**
 * x86_64 exception entries: #PF and the fatal ones through error_entry/error_exit,
 * #BP as 3.3's `paranoidzeroentry_ist int3 do_int3 DEBUG_STACK` (which moves the IST
 * pointer down one exception stack while the handler runs: the TSS is in memory),
 * and `do_int3` running the kprobe table.
 */
export function emitTraps64(ctx: BuildContext, opts: { readonly debugIstSlot: number; readonly generalProtectionHook?: (ctx: BuildContext) => void }): void {
  const { a } = ctx;
  const { rdi, rsi, rsp } = reg;
  const abs = (name: string): bigint => ctx.isa.abs(ctx.d(name));

  // #PF: the CPU pushed an error code into the orig_ax slot.
  a.label('page_fault');
  a.sub(rsp, R.origAx);
  a.call('error_entry');
  a.mov(rdi, rsp);
  a.mov(rsi, qword(rsp, R.origAx));
  a.mov(qword(rsp, R.origAx), -1);
  a.call('do_page_fault');
  a.jmp('error_exit');

  const fatal = (label: string, message: string, hasError: boolean): void => {
    a.label(label);
    if (label === 'general_protection') opts.generalProtectionHook?.(ctx);
    if (!hasError) a.push(-1);
    a.sub(rsp, R.origAx);
    a.call('error_entry');
    a.mov(rsi, rsp);
    a.mov(rdi, imm(abs(message)));
    a.call('die');
  };
  for (const t of FATAL_TRAPS) fatal(t.label, t.message, t.hasErrorCode);

  a.label('int3');
  a.push(-1);
  a.sub(rsp, R.origAx);
  a.call('save_paranoid');
  a.mov(rdi, rsp);
  a.xor(reg.esi, reg.esi);
  // subq $EXCEPTION_STKSZ, INIT_TSS_IST(DEBUG_STACK): a #BP inside do_int3 starts one stack lower.
  a.label('int3_ist_shift');
  a.sub(qword.gs(opts.debugIstSlot), 4096);
  a.call('do_int3');
  a.add(qword.gs(opts.debugIstSlot), 4096);
  a.jmp('paranoid_exit');

}

/**
 * 3.3's `system_call` cut to what matters here: swapgs, the user stack pointer parked
 * in `old_rsp`, the switch to `kernel_stack`, the call, and sysretq back. Between the
 * swapgs and the stack switch the CPU runs kernel code (CS = __KERNEL_CS) on the
 * user's RSP, which is what an NMI there sees.
 */
export function emitSyscall64(ctx: BuildContext): void {
  const { a } = ctx;
  const { rax, rcx, rsp, r11 } = reg;
  a.label('system_call');
  a.swapgs();
  a.label('system_call_after_swapgs');
  a.mov(pc('oldRsp'), rsp);
  a.mov(rsp, pc('kernelStack'));
  a.label('system_call_after_stack_switch');
  a.push(rcx).push(r11);
  a.add(pc('syscalls'), 1);
  // sys_getpid: the current task's pid.
  a.mov(rax, pc('currentTask'));
  a.mov(rax, qword(rax));
  a.pop(r11).pop(rcx);
  a.mov(rsp, pc('oldRsp'));
  a.swapgs();
  a.sysretq();
}
