import { mem } from '@kernsim/cpu-core';
import type { SmpCodeContext } from './code-context.js';
import type { VarName } from './layout.js';

/**
 * The lookup both #BP handlers of the chain start with (`handler(di = &saved ip)`): save
 * bx, cx, dx, si, di; if `guard` is 0 the table is not in use; else search the table for
 * the trap address (the saved ip minus the int3's byte). Out: `ax` = the entry, or a jump
 * to `notFound` (with the five registers still pushed).
 */
export function emitInt3TableLookup(ctx: SmpCodeContext, table: { guard: VarName; vec: VarName; nr: VarName; shift: number }, notFound: string): void {
  const { a, isa } = ctx;
  a.push(isa.bx).push(isa.cx).push(isa.dx).push(isa.si).push(isa.di);
  a.cmp(ctx.v(table.guard), 0).je(notFound);
  a.mov(isa.di, isa.word(isa.di)).dec(isa.di);
  emitBsearch(ctx, table, notFound);
}

/**
 * Binary search of a sorted table of 2^shift-byte entries whose first word is an address
 * (today's `poke_int3_handler` bsearch()es `bp_patching.vec` the same way).
 * In: `di` = the address. Out: `ax` = the entry, or a jump to `notFound`.
 * Clobbers ax, bx, cx, dx, si.
 */
export function emitBsearch(ctx: SmpCodeContext, table: { vec: VarName; nr: VarName; shift: number }, notFound: string): void {
  const { a, isa } = ctx;
  const loop = ctx.local('bs_loop');
  const lower = ctx.local('bs_lower');
  const found = ctx.local('bs_found');
  a.mov(isa.si, ctx.v(table.vec));
  a.mov(isa.cx, ctx.v(table.nr));
  a.xor(isa.bx, isa.bx);
  a.label(loop);
  a.cmp(isa.bx, isa.cx).jae(notFound);
  a.lea(isa.dx, mem(isa.bx, isa.cx, 1));
  a.shr(isa.dx, 1);
  a.mov(isa.ax, isa.dx).shl(isa.ax, table.shift).add(isa.ax, isa.si);
  a.cmp(isa.di, isa.word(isa.ax)).je(found);
  a.jb(lower);
  a.lea(isa.bx, mem(isa.dx, 1));
  a.jmp(loop);
  a.label(lower);
  a.mov(isa.cx, isa.dx).jmp(loop);
  a.label(found);
}
