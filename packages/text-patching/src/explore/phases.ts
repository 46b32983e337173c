import type { Machine } from '@kernsim/cpu-core';
import { varAddress } from '@kernsim/kernel/smp';
import type { VarName } from '@kernsim/kernel/smp';
import { TextPatchingError } from '../errors.js';
import type { PatchImage } from '../code/image.js';
import type { BpSync } from '../code/patchers.js';

/**
 * The searches of one protocol start at its own syncs: before the first write, and right
 * after each sync the protocol has returned. At each of those points every other CPU has
 * taken the sync's IPI after the last write (delivery serializes, so it sees memory's bytes)
 * and is not inside the #BP handler (its gate clears IF, so the IPI waits for its iret); the
 * rest of the IPI handler touches no code. So every state the protocol can be in there is
 * reached from one where the others stand at the top of their loops: the search lets them
 * run to any point of it before the patching CPU moves on. A phase ends when the next sync
 * has been answered by every CPU (or, after the last, when the patch is done).
 */
export interface Phase {
  /** `start`, or `after-<sync>-sync`. */
  readonly id: string;
  /** Syncs the protocol has completed when the phase starts. */
  readonly syncsDone: number;
  /** No sync follows: the phase ends with the patch. */
  readonly last: boolean;
}

const ALL_SYNCS: readonly BpSync[] = ['int3', 'tail', 'head'];

/** The syncs a breakpoint protocol without `omitted` runs, in order (none for the direct write). */
export function syncsOf(omitted: BpSync | undefined, direct: boolean): readonly BpSync[] {
  return direct ? [] : ALL_SYNCS.filter((s) => s !== omitted);
}

export function phasesOf(syncs: readonly BpSync[]): readonly Phase[] {
  return [{ id: 'start', syncsDone: 0, last: syncs.length === 0 }, ...syncs.map((s, i) => ({ id: `after-${s}-sync`, syncsDone: i + 1, last: i === syncs.length - 1 }))];
}

const word = (m: Machine, image: PatchImage, name: VarName): bigint => m.read(varAddress(image.layout, name), 8);

/** The phase is over: its closing sync was answered by every CPU. */
export function syncAnswered(m: Machine, image: PatchImage, phase: Phase): boolean {
  return word(m, image, 'syncRounds') > BigInt(phase.syncsDone) && word(m, image, 'syncPending') === 0n;
}

/**
 * Runs the machine (CPUs in turn, one instruction each) until the protocol has returned from
 * its `syncsDone`-th sync, then each other CPU alone to the top of its loop. Deterministic.
 */
export function advanceTo(m: Machine, image: PatchImage, phase: Phase, loopTop: bigint): void {
  if (phase.syncsDone === 0) return;
  const inSync = (rip: bigint): boolean => (rip >= image.symbol('sync_core') && rip < image.symbol('call_function_interrupt'));
  const limit = 100_000;
  let steps = 0;
  const stuck = (): never => {
    throw new TextPatchingError('KERNSIM_PATCH_DID_NOT_FINISH', `the protocol did not reach ${phase.id} within ${limit} steps`);
  };
  // syncRounds counts run_sync's entries: once it is k and CPU 0 is out of run_sync, the k-th sync has returned.
  while (word(m, image, 'syncRounds') !== BigInt(phase.syncsDone) || inSync(m.cpus[0]!.rip)) {
    m.cpus.forEach((_, cpu) => {
      if (m.isRunnable(cpu)) m.step(cpu);
    });
    if (++steps > limit) stuck();
  }
  for (const c of m.cpus.slice(1)) {
    while (c.rip !== loopTop || !c.interruptsEnabled) {
      m.step(c.id);
      if (++steps > limit) stuck();
    }
  }
}
