import { mem, reg } from '@kernsim/cpu-core';
import type { SmpCodeContext } from '@kernsim/kernel/smp';
import { emitEachEntry } from './each-entry.js';
import { ENTRY } from './patch-table.js';

/**
 * What the patchers' callers check before they write, as the kernels have it:
 *  - `check_old_bytes` (ax = entry): the site's bytes read through the text's address and
 *    compared with the entry's old bytes (3.3 `ftrace_modify_code()`'s `probe_kernel_read` +
 *    `memcmp`, 3.13 `add_break()`'s, 3.13 `__jump_label_transform()`'s); ZF set when they
 *    match. Keeps every register.
 *  - `bp_add_breaks`: the breakpoint method's first step for the whole table, as 3.13
 *    ftrace's `ftrace_replace_code()`: per entry the check, then `poke_int3`; at the first
 *    entry that does not match, `ftrace_bug()` (its address into `modifyFailed`) and
 *    `remove_breakpoints`: the int3s already placed go back to the old first byte, one sync,
 *    and ax = 1 (refused) instead of 0.
 *  - `bp_poke_tails`: every entry's tail, skipping 1-byte entries (3.13 `text_poke_bp()`
 *    writes a tail only `if (len - sizeof(int3) > 0)`); ax = how many tails were written, so
 *    the caller skips the sync after them when there were none.
 */
export function emitOldBytesChecks(ctx: SmpCodeContext): void {
  const { a, isa } = ctx;

  a.label('check_old_bytes');
  a.push(isa.ax).push(isa.cx).push(isa.si).push(isa.di);
  const loop = ctx.local('old_cmp');
  const out = ctx.local('old_cmp_done');
  a.movzx(isa.ecx, isa.byte(isa.ax, ENTRY.len));
  a.mov(isa.di, isa.word(isa.ax, ENTRY.addr));
  a.lea(isa.si, mem(isa.ax, ENTRY.oldBytes));
  a.label(loop);
  a.test(isa.ecx, isa.ecx).je(out); // ZF set: all matched
  a.mov(reg.al, isa.byte(isa.di)).cmp(reg.al, isa.byte(isa.si)).jne(out);
  a.inc(isa.si).inc(isa.di).dec(isa.ecx).jmp(loop);
  a.label(out);
  a.pop(isa.di).pop(isa.si).pop(isa.cx).pop(isa.ax); // pops keep the flags
  a.ret();

  a.label('bp_add_breaks');
  a.push(isa.bx).push(isa.cx).push(isa.dx);
  const added = ctx.local('add_brk_done');
  const failed = ctx.local('add_brk_failed');
  emitEachEntry(ctx, { vec: 'bpVec', nr: 'bpNr' }, () => {
    a.call('check_old_bytes').jne(failed);
    a.call('poke_int3');
  }, added);
  a.label(failed);
  a.mov(isa.dx, isa.word(isa.ax, ENTRY.addr)).mov(ctx.v('modifyFailed'), isa.dx);
  // remove_breakpoints: the entries before this one carry an int3
  const undo = ctx.local('rm_brk');
  const undone = ctx.local('rm_brk_done');
  a.mov(isa.cx, isa.bx).mov(isa.bx, ctx.v('bpVec'));
  a.label(undo);
  a.cmp(isa.bx, isa.cx).jae(undone);
  a.mov(isa.ax, isa.bx).call('poke_old_head');
  a.add(isa.bx, ENTRY.size).jmp(undo);
  a.label(undone);
  a.call('run_sync');
  a.mov(isa.eax, 1);
  const ret = ctx.local('add_brk_ret');
  a.jmp(ret);
  a.label(added);
  a.xor(isa.eax, isa.eax);
  a.label(ret);
  a.pop(isa.dx).pop(isa.cx).pop(isa.bx);
  a.ret();

  a.label('bp_poke_tails');
  a.push(isa.bx).push(isa.cx).push(isa.dx);
  a.xor(isa.edx, isa.edx);
  emitEachEntry(ctx, { vec: 'bpVec', nr: 'bpNr' }, () => {
    const noTail = ctx.local('no_tail');
    a.cmp(isa.byte(isa.ax, ENTRY.len), 1).je(noTail);
    a.call('poke_tail').inc(isa.edx);
    a.label(noTail);
  });
  a.mov(isa.eax, isa.edx);
  a.pop(isa.dx).pop(isa.cx).pop(isa.bx);
  a.ret();
}
