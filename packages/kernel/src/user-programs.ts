import type { Assembler } from '@kernsim/cpu-core';
import type { Isa } from './isa.js';
import { KERNEL_VECTOR } from './vectors.js';

/** What a CPU's running task does. */
export type TaskProgram =
  | { readonly kind: 'user-syscalls' }
  | { readonly kind: 'user-stack-pointer'; readonly rsp: bigint }
  | { readonly kind: 'kernel-lockup' }
  | { readonly kind: 'kernel-loop' }
  | { readonly kind: 'kernel-probed-loop' };

/** sys_getpid, the call the user tasks make. */
export const NR_GETPID = { x86_64: 39, i386: 20 } as const;

/**
 * The user-mode programs: a loop of getpid system calls (`syscall` on x86_64,
 * `int $0x80` on i386), optionally after loading an arbitrary stack pointer first.
 */
export function emitUserPrograms(a: Assembler, isa: Isa): void {
  const nr = isa.arch === 'x86_64' ? NR_GETPID.x86_64 : NR_GETPID.i386;
  a.label('user_syscall_loop');
  a.mov(isa.eax, nr);
  if (isa.arch === 'x86_64') a.syscall();
  else a.int(KERNEL_VECTOR.SYSCALL);
  a.jmp('user_syscall_loop');
  // user_stack_pointer: the task loads its RSP from its first argument register (set at boot) and loops on syscalls.
  a.label('user_stack_pointer');
  a.mov(isa.sp, isa.si);
  a.jmp('user_syscall_loop');
}

/** Kernel threads: a hard lockup (interrupts off, spinning) and a plain busy loop. */
export function emitKernelPrograms(a: Assembler, isa: Isa): void {
  a.label('kthread_lockup');
  a.cli();
  a.label('kthread_lockup_spin');
  a.pause();
  a.jmp('kthread_lockup_spin');
  a.label('kthread_loop');
  a.pause();
  a.jmp('kthread_loop');
  // A loop calling a small function, for probes (and breakpoints) outside NMI context.
  a.label('kthread_probed_loop');
  a.call('kthread_work');
  a.pause();
  a.jmp('kthread_probed_loop');
  a.label('kthread_work');
  a.push(isa.bp);
  a.mov(isa.bp, isa.sp);
  a.pop(isa.bp);
  a.ret();
}
