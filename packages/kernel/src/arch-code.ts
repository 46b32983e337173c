import type { BuildContext } from './build-context.js';

/** The architecture-specific part of the kernel: entries, traps, system calls, vmalloc_fault, IDT switching. */
export interface ArchCode {
  emit(ctx: BuildContext): void;
}
