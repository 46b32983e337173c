import { imm, MSR, qword, reg } from '@kernsim/cpu-core';
import type { BuildContext } from '../build-context.js';
import { PT_REGS_64 as R } from '../build-context.js';
import { PERCPU } from '../percpu.js';

/** x86_64 selectors (3.3's GDT layout): __KERNEL_CS, __KERNEL_DS, __USER_CS, __USER_DS. */
export const SEL64 = { kernelCs: 0x10, kernelDs: 0x18, userCs: 0x33, userDs: 0x2b } as const;

const SAVED: readonly (readonly [keyof typeof R, (typeof reg)[keyof typeof reg]])[] = [
  ['rdi', reg.rdi], ['rsi', reg.rsi], ['rdx', reg.rdx], ['rcx', reg.rcx], ['rax', reg.rax],
  ['r8', reg.r8], ['r9', reg.r9], ['r10', reg.r10], ['r11', reg.r11], ['rbx', reg.rbx],
  ['rbp', reg.rbp], ['r12', reg.r12], ['r13', reg.r13], ['r14', reg.r14], ['r15', reg.r15],
];

/** Stores every general register into the pt_regs at rsp + `bias` (3.3's SAVE_ALL / save_paranoid moves). */
export function saveAll(ctx: BuildContext, bias: number): void {
  for (const [slot, r] of SAVED) ctx.a.mov(qword(reg.rsp, R[slot] + bias), r);
}

/** RESTORE_ALL 8: reloads every register and drops pt_regs and orig_ax, leaving rsp at the iret frame. */
export function restoreAll(ctx: BuildContext): void {
  for (const [slot, r] of [...SAVED].reverse()) ctx.a.mov(r, qword(reg.rsp, R[slot]));
  ctx.a.add(reg.rsp, R.origAx + 8);
}

/**
 * The tail of error_exit / paranoid_exit up to the registers restored (ebx = 1: no swapgs).
 * With `nmiSafe` (Desnoyers's 2010 design) a return to kernel mode checks `in_nmi()` first:
 * in NMI context the registers are restored at `<name>_in_nmi`, which returns without iret.
 * Only the kernel path can be NMI context, and only there is %gs the kernel's to read it.
 */
function emitExceptionExit(ctx: BuildContext, name: string, restore: string, nmiSafe: boolean): void {
  const { a } = ctx;
  a.test(reg.ebx, reg.ebx);
  a.jnz(nmiSafe ? `.L${name}_kernel` : restore);
  a.swapgs();
  if (nmiSafe) {
    a.jmp(restore);
    a.label(`.L${name}_kernel`);
    a.cmp(qword.gs(PERCPU.inNmi * 8), 0);
    a.jne(`${name}_in_nmi`);
  }
  a.label(restore);
  restoreAll(ctx);
}

/**
 * Desnoyers's INTERRUPT_RETURN_NMI_SAFE (2010), with rsp at an iret frame to the same privilege
 * level: switch to the interrupted stack, push the saved RIP and RFLAGS there, restore RFLAGS
 * with popfq and return with ret. CS and SS stay as they are (no privilege change), and no iret
 * runs, so the CPU stays in NMI context (NMIs blocked). Uses two words below the interrupted RSP.
 */
export function emitReturnWithoutIret(ctx: BuildContext): void {
  const { a } = ctx;
  const { rax, rsp } = reg;
  a.push(rax);
  a.mov(rax, rsp);
  a.mov(rsp, qword(rax, 8 + R.sp - R.ip));
  a.push(qword(rax, 8));
  a.push(qword(rax, 8 + R.flags - R.ip));
  a.mov(rax, qword(rax));
  a.popfq();
  a.ret();
}

/**
 * The shared x86_64 entry helpers: `save_paranoid` (swapgs decided by the sign of
 * MSR_GS_BASE (cpu-core's `MSR.GS_BASE`), ebx = 1 when no swapgs is needed on exit), `error_entry` /
 * `error_exit` for exceptions that cannot come from NMI-unsafe places, the one
 * `irq_return` (`iretq`) everything but the NMI entry returns through, and `die`.
 */
export function emitEntryCommon64(ctx: BuildContext, opts: { readonly nmiSafeReturn: boolean }): void {
  const { a } = ctx;
  const { rsp, rdi } = reg;

  a.label('save_paranoid');
  a.cld();
  saveAll(ctx, 8);
  a.mov(reg.ebx, 1);
  a.mov(reg.ecx, MSR.GS_BASE);
  a.rdmsr();
  a.test(reg.edx, reg.edx);
  a.js('.Lsave_paranoid_kernel_gs');
  a.swapgs();
  a.xor(reg.ebx, reg.ebx);
  a.label('.Lsave_paranoid_kernel_gs');
  // save_paranoid clobbered rcx/rdx/rax for rdmsr; the originals are in pt_regs.
  a.ret();

  // error_entry: registers saved; swapgs only when the exception came from user mode.
  a.label('error_entry');
  a.cld();
  saveAll(ctx, 8);
  a.xor(reg.ebx, reg.ebx);
  a.test(qword(rsp, R.cs + 8), 3);
  a.je('.Lerror_kernelspace');
  a.swapgs();
  a.ret();
  a.label('.Lerror_kernelspace');
  a.add(reg.ebx, 1);
  a.ret();

  a.label('error_exit');
  emitExceptionExit(ctx, 'error_exit', '.Lerror_exit_restore', opts.nmiSafeReturn);
  a.jmp('irq_return');

  a.label('paranoid_exit');
  emitExceptionExit(ctx, 'paranoid_exit', '.Lparanoid_restore', opts.nmiSafeReturn);
  a.label('irq_return');
  a.iretq();
  if (opts.nmiSafeReturn) {
    for (const exit of ['error_exit', 'paranoid_exit']) {
      a.label(`${exit}_in_nmi`);
      restoreAll(ctx);
      a.jmp('nmi_safe_return');
    }
    a.label('nmi_safe_return');
    emitReturnWithoutIret(ctx);
  }

  // die(di = message, si = regs): print an oops and stop this CPU (panic in NMI context).
  a.label('die');
  a.cli();
  a.push(rdi);
  a.mov(rdi, imm(ctx.isa.abs(ctx.d('str_oops'))));
  a.call('puts');
  a.pop(rdi);
  a.call('puts');
  a.label('die_tail');
  a.mov(rdi, imm(ctx.isa.abs(ctx.d('str_rip'))));
  a.call('puts');
  a.mov(rdi, qword(reg.rsi, R.ip));
  a.call('put_hex');
  a.call('put_nl');
  a.label('panic_halt');
  a.hlt();
  a.jmp('panic_halt');
}
