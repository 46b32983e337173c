import type { SmpCodeContext, VarName } from '@kernsim/kernel/smp';
import { ENTRY } from './patch-table.js';

/**
 * `for (bx = table, cx = nr; cx != 0; bx += ENTRY.size, cx--) body();` over the patch-table
 * entries whose address and count are in the words `vec` and `nr`; `body` finds the entry in
 * both ax and bx and may leave the loop by jumping to a label of its own. With `exit` the loop
 * ends with a jump there instead of falling through. Clobbers ax, bx, cx.
 */
export function emitEachEntry(ctx: SmpCodeContext, table: { readonly vec: VarName; readonly nr: VarName }, body: () => void, exit?: string): void {
  const { a, isa } = ctx;
  const loop = ctx.local('entry');
  const done = exit ?? ctx.local('entries_done');
  a.mov(isa.bx, ctx.v(table.vec)).mov(isa.cx, ctx.v(table.nr));
  a.label(loop);
  a.test(isa.cx, isa.cx).je(done);
  a.mov(isa.ax, isa.bx);
  body();
  a.add(isa.bx, ENTRY.size).dec(isa.cx).jmp(loop);
  if (exit === undefined) a.label(done);
}
