import { emitStopMachine } from '@kernsim/kernel/smp';
import type { SmpCodeContext } from '@kernsim/kernel/smp';
import { emitEachEntry } from './each-entry.js';

export interface StopMachinePokeOptions {
  /** Write each site through 3.3 ftrace's NMI-aware `do_ftrace_mod_code` instead of plain text_poke. */
  readonly nmiSafeWrites: boolean;
}

/**
 * 3.3's `text_poke_smp_batch()`: the kernel's stop_machine with `stop_machine_text_poke()`
 * as the function. In RUN the first CPU to arrive writes every entry from `smVec`/`smNr`
 * while the others wait for `wrote_text`; then each runs `sync_core()`.
 */
export function emitStopMachinePoke(ctx: SmpCodeContext, options: StopMachinePokeOptions): void {
  const { a, isa } = ctx;
  emitStopMachine(ctx, { run: 'stop_machine_text_poke' });

  a.label('stop_machine_text_poke');
  a.push(isa.ax).push(isa.bx).push(isa.cx);
  const wait = ctx.local('sm_wait');
  const sync = ctx.local('sm_sync');
  a.lock().dec(ctx.v('smFirst')).jne(wait);
  // the writer: every site of the batch
  emitEachEntry(ctx, { vec: 'smVec', nr: 'smNr' }, () => {
    a.call(options.nmiSafeWrites ? 'ftrace_mod_code_entry' : 'text_poke_entry');
  });
  a.mov(ctx.v('wroteText'), 1);
  a.jmp(sync);
  a.label(wait);
  ctx.relax();
  a.cmp(ctx.v('wroteText'), 0).je(wait);
  a.label(sync);
  a.call('sync_core');
  a.pop(isa.cx).pop(isa.bx).pop(isa.ax);
  a.ret();
}
