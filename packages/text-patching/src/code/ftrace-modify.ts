import { imm } from '@kernsim/cpu-core';
import type { SmpCodeContext } from '@kernsim/kernel/smp';
import { emitEachEntry } from './each-entry.js';
import { ENTRY } from './patch-table.js';

export interface FtraceModifyOptions {
  /** Write through 3.3's NMI-aware `do_ftrace_mod_code` (else a plain `probe_kernel_write`). */
  readonly nmiSafeWrites: boolean;
}

/**
 * 3.3 ftrace under stop_machine, as `kernel/trace/ftrace.c` and `arch/x86/kernel/ftrace.c`
 * have it:
 *  - `patch_stop_machine_ftrace`: `ftrace_run_update_code()` → `stop_machine(__ftrace_modify_code,
 *    &command, NULL)`: the function runs on the first online CPU only, the others just go
 *    round the states;
 *  - `__ftrace_modify_code` → `ftrace_replace_code()`: per record `ftrace_modify_code()`:
 *    read the site and compare it with the expected old bytes (a mismatch is -EINVAL:
 *    `ftrace_bug()` records the ip in `modifyFailed` and processing stops, the sites done so
 *    far stay written), write (`do_ftrace_mod_code`), then `sync_core()` on this CPU only.
 * Needs `check_old_bytes`, `probe_kernel_write_entry`, `ftrace_mod_code_entry`, `sync_core`.
 */
export function emitFtraceModify(ctx: SmpCodeContext, options: FtraceModifyOptions): void {
  const { a, isa } = ctx;

  a.label('patch_stop_machine_ftrace');
  a.push(isa.ax);
  a.mov(isa.ax, ctx.v('bpVec')).mov(ctx.v('smVec'), isa.ax);
  a.mov(isa.ax, ctx.v('bpNr')).mov(ctx.v('smNr'), isa.ax);
  a.mov(isa.ax, imm('__ftrace_modify_code')).mov(ctx.v('smFn'), isa.ax);
  a.mov(ctx.v('smActiveAll'), 0);
  a.call('__stop_machine');
  a.pop(isa.ax);
  a.ret();

  a.label('__ftrace_modify_code');
  a.push(isa.ax).push(isa.bx).push(isa.cx).push(isa.dx);
  const done = ctx.local('ftrace_recs_done');
  const bug = ctx.local('ftrace_bug');
  emitEachEntry(ctx, { vec: 'smVec', nr: 'smNr' }, () => {
    a.call('check_old_bytes').jne(bug);
    a.call(options.nmiSafeWrites ? 'ftrace_mod_code_entry' : 'probe_kernel_write_entry');
    a.call('sync_core');
  }, done);
  a.label(bug);
  a.mov(isa.dx, isa.word(isa.ax, ENTRY.addr)).mov(ctx.v('modifyFailed'), isa.dx);
  a.label(done);
  a.pop(isa.dx).pop(isa.cx).pop(isa.bx).pop(isa.ax);
  a.ret();
}
