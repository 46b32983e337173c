import type { SmpCodeContext } from '@kernsim/kernel/smp';
import { ENTRY } from './patch-table.js';

/**
 * With `quiesceOn`: is the interrupted instruction pointer inside a patch-table entry's
 * replaced bytes (after its first) or in the out-of-line slots? Then `quiesceBusy` = 1.
 * Runs right after `save()` and `stallBegin()`: the hardware frame's ip is 7 words up.
 */
export function emitQuiesceCheck(ctx: SmpCodeContext): void {
  const { a, isa } = ctx;
  const done = ctx.local('q_done');
  const busy = ctx.local('q_busy');
  const loop = ctx.local('q_loop');
  const next = ctx.local('q_next');
  a.cmp(ctx.v('quiesceOn'), 0).je(done);
  a.mov(isa.si, isa.word(isa.sp, ctx.savedBytes + isa.w));
  const table = ctx.local('q_table');
  a.mov(isa.di, ctx.layout.slots).cmp(isa.si, isa.di).jb(table);
  a.mov(isa.di, ctx.v('slotsEnd')).cmp(isa.si, isa.di).jb(busy);
  a.label(table);
  a.mov(isa.bx, ctx.v('bpVec')).mov(isa.cx, ctx.v('bpNr'));
  a.label(loop);
  a.test(isa.cx, isa.cx).je(done);
  a.mov(isa.dx, isa.word(isa.bx, ENTRY.addr));
  a.cmp(isa.si, isa.dx).jbe(next);
  a.movzx(isa.eax, isa.byte(isa.bx, ENTRY.span));
  a.add(isa.dx, isa.ax);
  a.cmp(isa.si, isa.dx).jb(busy);
  a.label(next);
  a.add(isa.bx, ENTRY.size).dec(isa.cx).jmp(loop);
  a.label(busy);
  a.mov(ctx.v('quiesceBusy'), 1);
  a.label(done);
}
