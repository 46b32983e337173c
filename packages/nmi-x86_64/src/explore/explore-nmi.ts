import { SearchPlan, searchInJobs, searchInPool } from '@kernsim/cpu-core/explore';
import type { PlanData, SearchResult, StartsReport, StartVerdict as ExploreStartVerdict, StartViolation } from '@kernsim/cpu-core/explore';
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
  /** State budget per start (default 3 000 000). */
  readonly maxStates?: number;
  /** Worker threads; 1 runs the jobs in this thread (default 1). */
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
  const starts = options.starts ?? (options.arch === 'i386' ? I386_START_IDS : START_IDS);
  const params: Omit<NmiModelParams, 'start'> = {
    ...(options.arch !== undefined ? { arch: options.arch } : {}),
    entry: options.entry,
    ...(options.variant !== undefined ? { variant: options.variant } : {}),
    ...(options.without !== undefined ? { without: options.without } : {}),
    nmis: options.nmis ?? 2,
    maxDepth: options.maxDepth ?? 6000,
    maxStates: options.maxStates ?? 3_000_000,
  };
  const chunk = options.chunk ?? 96;
  const threads = options.threads ?? 1;
  const plans: Partial<Record<StartId, PlanData>> = { ...options.resume };
  const verdicts: StartVerdict[] = [];
  const violations: NmiViolation[] = [];
  for (const start of starts) {
    const p: NmiModelParams = { ...params, start };
    const saved = plans[start];
    const plan = saved ? SearchPlan.fromJSON(JSON.stringify(saved)) : new SearchPlan(p, chunk);
    const hooks = {
      ...(options.shouldStop ? { shouldStop: options.shouldStop } : {}),
      maxStates: params.maxStates ?? 3_000_000,
      onJob: async (pl: SearchPlan) => {
        plans[start] = pl.toData();
        await options.onJob?.(start, plans, pl.states);
      },
    };
    let r: SearchResult;
    if (threads > 1) {
      const ref = { module: new URL(fromSource ? './model.ts' : './model.js', import.meta.url).href, export: 'buildNmiModel', params: p };
      r = await searchInPool(ref, plan, { ...hooks, threads });
    } else {
      const { machine, options: so } = buildNmiModel(p);
      r = await searchInJobs(machine, so, plan, hooks);
    }
    plans[start] = plan.toData();
    verdicts.push({ start, verdict: r.verdict, states: r.states, schedules: r.schedules, exhaustive: r.exhaustive, depth: r.depth });
    for (const v of r.violations) violations.push({ invariant: v.invariant, start, detail: v.detail, schedule: v.schedule });
    if (options.shouldStop?.()) break;
  }
  const incomplete = verdicts.length < starts.length || verdicts.some((v) => v.verdict === 'incomplete');
  return {
    verdict: violations.length > 0 ? 'violated' : incomplete ? 'incomplete' : 'verified',
    budget: `${params.nmis} NMI${params.nmis === 1 ? '' : 's'}, depth ${params.maxDepth}, ${starts.length} start state${starts.length === 1 ? '' : 's'}`,
    states: verdicts.reduce((s, v) => s + v.states, 0),
    schedules: verdicts.reduce((s, v) => s + v.schedules, 0),
    violations,
    starts: verdicts,
    plans,
    params,
  };
}
