import type { Machine } from '@kernsim/cpu-core';
import { varAddress } from '@kernsim/kernel/smp';
import type { VarName } from '@kernsim/kernel/smp';
import type { PatchImage } from '../code/image.js';

/** What the other CPUs can tell about the patching CPU: the variables they (or the path's end) read, and the IPIs it sends. */
const WATCHED: readonly VarName[] = ['bpInProgress', 'patchDone', 'syncRounds', 'syncPending'];

/** A runaway patcher still ends its step (it would be a bug in the protocol, and the search should see it). */
const MAX_RUN = 10_000;

/**
 * Makes each step of the patching CPU (CPU 0) one visible action: it runs on through its
 * private work and stops right after the first instruction the other CPUs can tell apart —
 * a write to the site's bytes, to `bpInProgress` (the #BP handler reads it), to `patchDone`,
 * `syncRounds` or `syncPending`, an IPI sent — or before any instruction of `run_sync` (whose
 * wait reads what the others write) or of the site, or when it stops running. `run_sync`, the
 * site, and everything once `patchDone` is set (CPU 0 is then a workload CPU) go one
 * instruction per step, as the others do.
 *
 * Why nothing is lost: everything else CPU 0 does between two visible actions (3.13's
 * `add_break()` old-bytes compare, `text_poke`'s copy set-up, its own `sync_core()` and
 * read-back, the loops over the table) touches only its registers, its stack, the table and
 * the site's bytes as data, which no other CPU writes; interrupts are never sent to it; and
 * its view of the site is its own writes. Each such step commutes with every step of the
 * others, so every interleaving is equivalent to one where CPU 0's private steps come right
 * before its next visible one, which is what a batched step is. Before 3.13's checks and
 * read-back were modelled the phases were short enough to search step by step; with them, the
 * ~100 private instructions between two writes would need depths the search cannot afford.
 */
export function batchPatcherSteps(m: Machine, image: PatchImage): void {
  const site = image.sites[0]!;
  const len = site.oldBytes.length;
  const addrs = WATCHED.map((name) => varAddress(image.layout, name));
  const syncFrom = image.symbol('run_sync');
  const syncTo = image.symbol('call_function_interrupt');
  const c0 = m.cpus[0]!;
  const visibleState = (): string => `${Array.from(m.readBytes(site.address, len)).join(',')}/${addrs.map((a) => m.read(a, 8)).join(',')}/${c0.ipisSent}`;
  const patchDone = varAddress(image.layout, 'patchDone');
  // run_sync, and the site itself (CPU 0 runs it as workload once the patch is done): one instruction at a time.
  const single = (): boolean => (c0.rip >= syncFrom && c0.rip < syncTo) || (c0.rip >= site.address && c0.rip < site.address + BigInt(len)) || m.read(patchDone, 8) !== 0n;
  const quiet = (): boolean => c0.status === 'running' && !c0.nmiPending && !c0.irqPending && m.isRunnable(0);
  const step = m.step.bind(m);
  m.step = (cpu: number): void => {
    if (cpu !== 0) {
      step(cpu);
      return;
    }
    const before = visibleState();
    const alone = single();
    step(0);
    for (let n = 1; n < MAX_RUN && !alone && !single() && quiet() && visibleState() === before; n++) step(0);
  };
}
