import type { CodeContext } from './context.js';
import { ENTRY } from './layout.js';

/**
 * The three ways to change every site of the patch table, as routines the patching CPU
 * calls: `patch_direct` (write and hope), `patch_stop_machine`, `patch_breakpoint`
 * (3.6+ ftrace / text_poke_bp_batch: all int3s, sync, all tails, sync, all heads, sync)
 * and `patch_breakpoint_each` (the same three steps and three syncs per site).
 */
export function emitPatchers(ctx: CodeContext): void {
  const { a, isa } = ctx;

  /** Calls `routine` with each table entry in ax. */
  const forEach = (routine: string): void => {
    const loop = ctx.local('each');
    const done = ctx.local('each_done');
    a.mov(isa.bx, ctx.v('bpVec')).mov(isa.cx, ctx.v('bpNr'));
    a.label(loop);
    a.test(isa.cx, isa.cx).je(done);
    a.mov(isa.ax, isa.bx).call(routine);
    a.add(isa.bx, ENTRY.size).dec(isa.cx).jmp(loop);
    a.label(done);
  };
  const enter = (name: string): void => {
    a.label(name);
    a.push(isa.ax).push(isa.bx).push(isa.cx);
  };
  const leave = (): void => {
    a.pop(isa.cx).pop(isa.bx).pop(isa.ax).ret();
  };

  enter('patch_direct');
  forEach('text_poke_entry');
  leave();

  enter('patch_stop_machine');
  a.call('stop_machine_text_poke_batch');
  leave();

  enter('patch_breakpoint');
  a.mov(ctx.v('bpInProgress'), 1);
  forEach('poke_int3');
  a.call('run_sync');
  forEach('poke_tail');
  a.call('run_sync');
  forEach('poke_head');
  a.call('run_sync');
  a.mov(ctx.v('bpInProgress'), 0);
  leave();

  a.label('poke_one_bp');
  a.call('poke_int3').call('run_sync');
  a.call('poke_tail').call('run_sync');
  a.call('poke_head').call('run_sync');
  a.ret();

  enter('patch_breakpoint_each');
  a.mov(ctx.v('bpInProgress'), 1);
  forEach('poke_one_bp');
  a.mov(ctx.v('bpInProgress'), 0);
  leave();
}
