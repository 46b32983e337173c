import type { SmpCodeContext } from '@kernsim/kernel/smp';
import { ENTRY } from './patch-table.js';

/**
 * The breakpoint protocol's three syncs, named after what each publishes to the other CPUs:
 * `int3` (every CPU sees the int3 before the tail changes), `tail` (every CPU sees the new
 * tail before the first byte changes), `head` (every CPU sees the new first byte, and has
 * left the #BP handler, before the patch is over).
 */
export type BpSync = 'int3' | 'tail' | 'head';

export interface PatcherCodeOptions {
  /** Leave one sync out of `patch_breakpoint` and `patch_breakpoint_each` (the explorer's weakened protocols; default: all three). */
  readonly omitSync?: BpSync;
}

/**
 * The three ways to change every site of the patch table, as routines the patching CPU
 * calls: `patch_direct` (write and hope), `patch_stop_machine` (one stop_machine for the
 * batch: 3.3 ftrace and optimized kprobes), `patch_stop_machine_each` (one per site: 3.3
 * jump labels), `patch_breakpoint`
 * (3.6+ ftrace / text_poke_bp_batch: all int3s, sync, all tails, sync, all heads, sync)
 * and `patch_breakpoint_each` (the same three steps and three syncs per site).
 */
export function emitPatchers(ctx: SmpCodeContext, options: PatcherCodeOptions = {}): void {
  const { a, isa } = ctx;
  const { forEach, enter, leave } = routineFrame(ctx);

  enter('patch_direct');
  forEach('probe_kernel_write_entry');
  leave();

  // Sync until no CPU was caught inside bytes about to be replaced (only with quiesceOn).
  a.label('quiesce');
  const again = ctx.local('quiesce');
  const quiet = ctx.local('quiesce_done');
  a.cmp(ctx.v('quiesceOn'), 0).je(quiet);
  a.label(again);
  a.mov(ctx.v('quiesceBusy'), 0);
  a.call('run_sync');
  a.cmp(ctx.v('quiesceBusy'), 0).jne(again);
  a.label(quiet);
  a.ret();

  enter('patch_stop_machine');
  // Traps at the sites go to their detours from now on (3.3's setup_detour_execution for
  // a probe flagged optimized); then wait for CPUs already inside the replaced bytes.
  const noWait = ctx.local('sm_no_wait');
  a.cmp(ctx.v('quiesceOn'), 0).je(noWait);
  a.mov(ctx.v('bpInProgress'), 1);
  a.call('quiesce');
  a.label(noWait);
  a.mov(isa.ax, ctx.v('bpVec')).mov(ctx.v('smVec'), isa.ax);
  a.mov(isa.ax, ctx.v('bpNr')).mov(ctx.v('smNr'), isa.ax);
  a.call('stop_machine_text_poke_batch');
  a.mov(ctx.v('bpInProgress'), 0);
  leave();

  // 3.3 jump labels: arch_jump_label_transform() per entry, each a text_poke_smp(), so one
  // stop_machine per site.
  a.label('stop_machine_one');
  a.mov(ctx.v('smVec'), isa.ax).mov(ctx.v('smNr'), 1);
  a.call('stop_machine_text_poke_batch');
  a.ret();

  enter('patch_stop_machine_each');
  forEach('stop_machine_one');
  leave();

  emitBreakpointPatchers(ctx, options);
}

/** `forEach(routine)` calls `routine` with each table entry in ax; `enter`/`leave` open and close a routine that keeps ax, bx, cx. */
function routineFrame(ctx: SmpCodeContext): { readonly forEach: (routine: string) => void; readonly enter: (name: string) => void; readonly leave: () => void } {
  const { a, isa } = ctx;
  return {
    forEach: (routine) => {
      const loop = ctx.local('each');
      const done = ctx.local('each_done');
      a.mov(isa.bx, ctx.v('bpVec')).mov(isa.cx, ctx.v('bpNr'));
      a.label(loop);
      a.test(isa.cx, isa.cx).je(done);
      a.mov(isa.ax, isa.bx).call(routine);
      a.add(isa.bx, ENTRY.size).dec(isa.cx).jmp(loop);
      a.label(done);
    },
    enter: (name) => {
      a.label(name);
      a.push(isa.ax).push(isa.bx).push(isa.cx);
    },
    leave: () => {
      a.pop(isa.cx).pop(isa.bx).pop(isa.ax).ret();
    },
  };
}

/**
 * The breakpoint method: `patch_breakpoint` (the whole table in three steps, three syncs) and
 * `patch_breakpoint_each` (3.13 `text_poke_bp()` per site), with `options.omitSync` left out.
 */
function emitBreakpointPatchers(ctx: SmpCodeContext, options: PatcherCodeOptions): void {
  const { a, isa } = ctx;
  const { forEach, enter, leave } = routineFrame(ctx);
  const sync = (what: BpSync): void => {
    if (options.omitSync !== what) a.call('run_sync');
  };

  enter('patch_breakpoint');
  a.mov(ctx.v('bpInProgress'), 1);
  // each site's old bytes checked, then its int3; a mismatch takes them out and refuses
  const added = ctx.local('bp_added');
  a.call('bp_add_breaks').test(isa.eax, isa.eax).je(added);
  a.mov(ctx.v('bpInProgress'), 0);
  leave();
  a.label(added);
  sync('int3');
  // The first sync doubles as the quiescence check: repeat it while a CPU was inside.
  const checked = ctx.local('bp_quiet');
  a.cmp(ctx.v('quiesceBusy'), 0).je(checked);
  a.call('quiesce');
  a.label(checked);
  const noTails = ctx.local('bp_no_tails');
  a.call('bp_poke_tails').test(isa.eax, isa.eax).je(noTails);
  sync('tail');
  a.label(noTails);
  forEach('poke_head');
  sync('head');
  a.mov(ctx.v('bpInProgress'), 0);
  leave();

  // 3.13 text_poke_bp() under arch_jump_label_transform(): bytes not as expected are bug_at()
  a.label('poke_one_bp');
  const expected = ctx.local('bp_expected');
  const oneByte = ctx.local('bp_one_byte');
  a.call('check_old_bytes').je(expected);
  a.ud2();
  a.label(expected);
  a.call('poke_int3');
  sync('int3');
  a.cmp(isa.byte(isa.ax, ENTRY.len), 1).je(oneByte);
  a.call('poke_tail');
  sync('tail');
  a.label(oneByte);
  a.call('poke_head');
  sync('head');
  a.ret();

  enter('patch_breakpoint_each');
  a.mov(ctx.v('bpInProgress'), 1);
  forEach('poke_one_bp');
  a.mov(ctx.v('bpInProgress'), 0);
  leave();
}
