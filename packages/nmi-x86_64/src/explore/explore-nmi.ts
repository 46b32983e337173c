import { searchPoolProblem, searchStarts } from '@kernsim/cpu-core/explore';
import type { PlanData, StartsReport, StartVerdict as ExploreStartVerdict, StartViolation } from '@kernsim/cpu-core/explore';
import { NmiX86Error } from '../errors.js';
import { buildNmiModel } from './model.js';
import type { NmiModelParams } from './model.js';
import { I386_START_IDS, START_IDS } from './starts.js';
import type { StartId } from './starts.js';
import type { EntryChoice } from './variants.js';

export interface NmiExploreOptions extends EntryChoice {
  /** Start states to search from (default: all of them that exist on the arch). */
  readonly starts?: readonly StartId[];
  /** NMIs the search may raise along one path, besides a start's own (default 2). */
  readonly nmis?: number;
  /** Longest schedule (default 6000: the watchdog dump's window, the longest start, fits). */
  readonly maxDepth?: number;
  /** State budget per start (default 6 000 000: every start of the default search, 2 NMIs, runs to its end). */
  readonly maxStates?: number;
  /** Threads that search: this one and `threads - 1` workers; 1 runs the jobs in this thread only (default 1). */
  readonly threads?: number;
  /** Levels each subtree job explores before handing the rest back as new jobs (default 96). */
  readonly chunk?: number;
  /** Checkpoint to resume from: the `plans` of an earlier report. */
  readonly resume?: Readonly<Partial<Record<StartId, PlanData>>>;
  readonly shouldStop?: () => boolean;
  /** After every finished job (progress, checkpoint). */
  readonly onJob?: (start: StartId, plans: Readonly<Partial<Record<StartId, PlanData>>>, states: number) => void | Promise<void>;
}

export type NmiViolation = StartViolation<StartId>;

export type StartVerdict = ExploreStartVerdict<StartId>;

export type NmiExploreReport = StartsReport<StartId, NmiModelParams>;

const fromSource = import.meta.url.endsWith('.ts');

/**
 * The explorer on the NMI entries: for each start state, every schedule of CPU 0's steps and up
 * to `nmis` sampler NMIs at any boundary, judged by the NMI invariants, one shortest
 * counterexample per (invariant, start). Nothing tells it where an NMI should land.
 */
export async function exploreNmi(options: NmiExploreOptions): Promise<NmiExploreReport> {
  // Checked before any worker starts, as this package's error.
  const problem = searchPoolProblem(options.maxStates, options.threads);
  if (problem !== undefined) throw new NmiX86Error('KERNSIM_NMI64_BAD_EXPLORE', problem);
  const starts = options.starts ?? (options.arch === 'i386' ? I386_START_IDS : START_IDS);
  // An empty list searched nothing and reported "verified".
  if (starts.length === 0) throw new NmiX86Error('KERNSIM_NMI64_BAD_EXPLORE', 'starts is empty: name at least one start state, or leave it out for all of them');
  const params: Omit<NmiModelParams, 'start'> = {
    ...(options.arch !== undefined ? { arch: options.arch } : {}),
    entry: options.entry,
    ...(options.variant !== undefined ? { variant: options.variant } : {}),
    ...(options.without !== undefined ? { without: options.without } : {}),
    nmis: options.nmis ?? 2,
    maxDepth: options.maxDepth ?? 6000,
    maxStates: options.maxStates ?? 6_000_000,
  };
  return searchStarts<StartId, NmiModelParams>({
    starts,
    params,
    model: { build: buildNmiModel, module: new URL(fromSource ? './model.ts' : './model.js', import.meta.url).href, export: 'buildNmiModel' },
    budget: `${params.nmis} NMI${params.nmis === 1 ? '' : 's'}, depth ${params.maxDepth}, ${starts.length} start state${starts.length === 1 ? '' : 's'}`,
    chunk: options.chunk ?? 96,
    maxStates: params.maxStates ?? 6_000_000,
    threads: options.threads ?? 1,
    resume: options.resume,
    shouldStop: options.shouldStop,
    onJob: options.onJob,
  });
}
