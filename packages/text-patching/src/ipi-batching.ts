import type { Arch } from '@kernsim/cpu-core';
import { cyclesToMicros } from './cost-curve.js';
import { runPatch } from './run.js';

/**
 * The kernel's own published count of the breakpoint method's IPIs, batched and one site at
 * a time: the cover letter of Daniel Bristot de Oliveira's series "x86/jump_label: Bound
 * IPIs sent when updating a static key" (V6, LKML, 12 June 2019, Message-Id
 * `<cover.1560325897.git.bristot@redhat.com>`; merged for Linux 5.3 as
 * ba54f0c3f7c4 "x86/jump_label: Batch jump label updates", the last of its six patches).
 * Before the series every jump entry of a key went through `text_poke_bp()` with its own
 * three `on_each_cpu()` syncs, so every other CPU took 3 IPIs per entry; batched, 3 per key.
 */
export interface PublishedIpiCount {
  /** What the letter measured. */
  readonly key: string;
  /** Jump entries of the key: the sites patched together. */
  readonly entries: number;
  /** IPIs one other CPU received per key change, one entry at a time (the letter's figure). */
  readonly perCpuUnbatched: number;
  /** The same with the batch (the letter's figure). */
  readonly perCpuBatched: number;
  /** What the letter says, in our words. */
  readonly says: string;
}

export const BRISTOT_2019_SOURCE = 'D. Bristot de Oliveira, "[PATCH V6 0/6] x86/jump_label: Bound IPIs sent when updating a static key", LKML 2019-06-12, Message-Id <cover.1560325897.git.bristot@redhat.com>';

/** The machine the letter timed its updates on: "a two nodes/24 CPUs box with an Intel Xeon processor @2.27GHz". */
export const BRISTOT_2019_CPUS = 24;

export const BRISTOT_2019: readonly PublishedIpiCount[] = [
  {
    key: 'netstamp_needed_key',
    entries: 4,
    perCpuUnbatched: 12,
    perCpuBatched: 3,
    says: 'isolated CPUs received bursts of 12 IPIs: the key has four entries, 3 IPIs each; batched, the count is 3 whatever the entries',
  },
  {
    key: 'sched_schedstats',
    entries: 56,
    perCpuUnbatched: 168,
    perCpuBatched: 3,
    says: '56 entries give 168 IPIs for each CPU not running the enabling thread; /proc/interrupts shows about 168 per switch before, 3 after',
  },
];

/**
 * The letter's timing of one `sched_schedstats` switch on its 24-CPU machine (under a kernel
 * build with two jobs per CPU): 57 ms one entry at a time, 1.4 ms batched.
 */
export const BRISTOT_2019_UPDATE_MS = { unbatched: 57, batched: 1.4 } as const;

export interface IpiBatchingRow {
  readonly key: string;
  readonly cpus: number;
  readonly sites: number;
  readonly batching: 'batch' | 'each';
  readonly completed: boolean;
  /** IPIs each other CPU took, as its own counter has them (fewest, most). */
  readonly perCpuMin: number;
  readonly perCpuMax: number;
  /** All IPIs the machine's local APICs accepted, and the patching code's own count. */
  readonly delivered: number;
  readonly sent: number;
  readonly syncRounds: number;
  readonly patchCycles: number;
  readonly patchMicros: number;
  /** The letter's per-CPU figure for this configuration. */
  readonly published: number;
}

export interface IpiBatchingOptions {
  /** Default: the letter's 24 CPUs. */
  readonly cpus?: number;
  readonly arch?: Arch;
  readonly timing?: 'flat' | 'modelled';
}

/**
 * Runs the letter's configurations on the simulated machine: a static key with 4 and with 56
 * sites switched by the breakpoint method one site at a time (`each`, 3.13's
 * `arch_jump_label_transform()` → `text_poke_bp()` per entry) and batched (`batch`), and reads
 * the IPIs every CPU took from the simulation.
 */
export function ipiBatchingCounts(options: IpiBatchingOptions = {}): IpiBatchingRow[] {
  const cpus = options.cpus ?? BRISTOT_2019_CPUS;
  const out: IpiBatchingRow[] = [];
  for (const figure of BRISTOT_2019) {
    for (const batching of ['each', 'batch'] as const) {
      const r = runPatch({ method: 'breakpoint', user: 'static-key', cpus, sites: figure.entries, batching, settle: 1, arch: options.arch ?? 'x86_64', timing: options.timing ?? 'modelled' });
      const others = r.perCpu.slice(1).map((c) => c.ipisTaken);
      out.push({
        key: figure.key,
        cpus,
        sites: figure.entries,
        batching,
        completed: r.completed,
        perCpuMin: others.length === 0 ? 0 : Math.min(...others),
        perCpuMax: others.length === 0 ? 0 : Math.max(...others),
        delivered: r.ipisDelivered,
        sent: r.ipisSent,
        syncRounds: r.syncRounds,
        patchCycles: r.patchCycles,
        patchMicros: cyclesToMicros(r.patchCycles),
        published: batching === 'each' ? figure.perCpuUnbatched : figure.perCpuBatched,
      });
    }
  }
  return out;
}
