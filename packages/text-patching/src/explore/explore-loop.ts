import { mem } from '@kernsim/cpu-core';
import type { SmpCodeContext } from '@kernsim/kernel/smp';
import { functionName } from '../code/functions.js';

/** Bytes below a looping CPU's stack pointer that its handlers may have written (the deepest: an int3 inside the traced function). */
export const SCRUB_BYTES = 512;

/**
 * What the other CPUs run under the explorer: call the traced function, then zero the dead
 * stack bytes below the stack pointer, and again. The #BP and IPI handlers leave their frames
 * there (the interrupted address, the time stamp of their stall measurement); nothing reads
 * those bytes again, but the machine's state hash covers all memory, so without the scrub two
 * paths that differ only in where an IPI once interrupted this CPU would never merge and the
 * search would grow with every such point. `rep stosq` is one step, so the loop stays short.
 */
export function emitExploreLoop(ctx: SmpCodeContext): void {
  const { a, isa } = ctx;
  a.label('explore_loop');
  a.call(functionName('ftrace', 0));
  a.lea(isa.di, mem(isa.sp, -SCRUB_BYTES));
  a.mov(isa.ecx, SCRUB_BYTES / 8);
  a.xor(isa.eax, isa.eax);
  a.rep().stosq();
  a.jmp('explore_loop');
}
