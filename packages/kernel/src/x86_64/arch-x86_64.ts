import { imm, mem, reg } from '@kernsim/cpu-core';
import type { ArchCode } from '../arch-code.js';
import type { BuildContext } from '../build-context.js';
import { MSR } from '@kernsim/cpu-core';
import { SEL64, emitEntryCommon64 } from './entry-common.js';
import { emitSyscall64, emitTraps64 } from './traps.js';

/** Where each CPU's TSS (init_tss) sits in its per-CPU area, so `%gs:` reaches its IST slots. */
export const TSS_PERCPU_OFFSET = 0x800;

/** Byte offset of IST n (1..7) in the x86_64 TSS. */
export const tssIstOffset = (n: number): number => 0x24 + 8 * (n - 1);

export interface Arch64Options {
  /** Offset of the TSS in the per-CPU area. */
  readonly tssInPercpu: number;
  /** Exception exits return to NMI context with `ret`, not `iret` (NmiEntry.exceptionReturn `ret-in-nmi`). */
  readonly nmiSafeReturn?: boolean;
  /** NmiEntry.generalProtectionHook. */
  readonly generalProtectionHook?: (ctx: BuildContext) => void;
}

export function arch64(options: Arch64Options): ArchCode {
  return {
    emit(ctx: BuildContext): void {
      emitEntryCommon64(ctx, { nmiSafeReturn: options.nmiSafeReturn ?? false });
      emitTraps64(ctx, { debugIstSlot: options.tssInPercpu + tssIstOffset(DEBUG_STACK_IST), ...(options.generalProtectionHook ? { generalProtectionHook: options.generalProtectionHook } : {}) });
      emitSyscall64(ctx);
      emitIdtSwitch(ctx);
      emitStartup64(ctx);
    },
  };
}

/**
 * Early boot on each CPU: program the syscall MSRs (LSTAR, STAR, FMASK), then enter the
 * CPU's first task: r12 = entry, r13 = stack pointer, r14 = 3 for user mode, r15 = the
 * task's rsi. A user task is entered with iretq after swapgs, as a return from a
 * system call would.
 */
function emitStartup64(ctx: BuildContext): void {
  const { a } = ctx;
  const { eax, ecx, edx, r12, r13, r14, r15, rsi, rsp } = reg;
  a.label('cpu_startup');
  a.mov(ecx, MSR.LSTAR);
  a.mov(reg.rax, imm('system_call'));
  a.mov(reg.rdx, reg.rax);
  a.shr(reg.rdx, 32);
  a.wrmsr();
  a.mov(ecx, MSR.STAR);
  a.xor(eax, eax);
  a.mov(edx, (0x23 << 16) | SEL64.kernelCs);
  a.wrmsr();
  a.mov(ecx, MSR.FMASK);
  a.mov(eax, 0x47700);
  a.xor(edx, edx);
  a.wrmsr();
  a.mov(rsi, r15);
  a.cmp(r14, 3);
  a.je('.Lstartup_user');
  a.mov(rsp, r13);
  a.jmp(r12);
  a.label('.Lstartup_user');
  a.swapgs();
  a.push(SEL64.userDs);
  a.push(r13);
  a.push(0x2);
  a.push(SEL64.userCs);
  a.push(r12);
  a.iretq();
}

/** The IST index of the #DB/#BP stack (3.3's DEBUG_STACK). */
export const DEBUG_STACK_IST = 4;

/** debug_stack_set_zero / debug_stack_reset (cpu/common.c): load the NMI IDT or the normal one on this CPU. */
function emitIdtSwitch(ctx: BuildContext): void {
  const { a } = ctx;
  a.label('load_nmi_idt');
  emitLidt(ctx, 'nmi_idt_descr');
  a.ret();
  a.label('load_normal_idt');
  emitLidt(ctx, 'idt_descr');
  a.ret();
}

function emitLidt(ctx: BuildContext, descr: string): void {
  ctx.a.lidt(mem(ctx.isa.abs(ctx.d(descr))));
}
