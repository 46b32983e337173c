/**
 * The kernel's own interrupt vectors (Linux's numbers). The exception vectors are
 * cpu-core's `VECTOR`; this table holds only what the kernel adds on top.
 */
export const KERNEL_VECTOR = {
  /** The i386 system call gate (`int $0x80`). */
  SYSCALL: 0x80,
  /** CALL_FUNCTION_VECTOR: `on_each_cpu(do_sync_core)`. */
  CALL_FUNCTION: 0xfc,
  /** RESCHEDULE_VECTOR: wakes the stopper thread stop_machine queued work on. */
  RESCHEDULE: 0xfd,
} as const;
