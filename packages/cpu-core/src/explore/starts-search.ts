import { CpuError } from '../errors.js';
import { searchInJobs } from './jobs.js';
import type { SearchResult, StartsReport, StartVerdict, StartViolation } from './model.js';
import { SearchPlan } from './plan.js';
import type { PlanData } from './plan.js';
import { SearchPool } from './pool.js';
import { searchPoolProblem } from './pool-limits.js';
import type { BuiltModel } from './worker.js';

/** A domain's searches from several start states (or phases) of one model, each resumable. */
export interface StartsSearch<Start extends string, Params extends { readonly start: Start }> {
  readonly starts: readonly Start[];
  readonly params: Omit<Params, 'start'>;
  /** The model factory, and where a worker thread loads it from (`module` URL, `export` name). */
  readonly model: { readonly build: (params: Params) => BuiltModel; readonly module: string; readonly export: string };
  readonly budget: string;
  readonly chunk: number;
  readonly maxStates: number;
  readonly threads?: number;
  readonly resume?: Readonly<Partial<Record<Start, PlanData>>> | undefined;
  readonly shouldStop?: (() => boolean) | undefined;
  readonly onJob?: ((start: Start, plans: Readonly<Partial<Record<Start, PlanData>>>, states: number) => void | Promise<void>) | undefined;
}

/**
 * Runs the search from each start (in turn in this thread, or `threads` starts at a time on
 * one pool of `threads` threads, whose threads pull work from any of them), keeping every start's plan as a
 * checkpoint, and merges the results in start order: violated if any start is, incomplete if a
 * start was cut short or not reached (a stop), else verified.
 */
export async function searchStarts<Start extends string, Params extends { readonly start: Start }>(s: StartsSearch<Start, Params>): Promise<StartsReport<Start, Params>> {
  const problem = searchPoolProblem(s.maxStates, s.threads);
  if (problem !== undefined) throw new CpuError('KERNSIM_CPU_BAD_ARGUMENT', problem);
  // No start is no search: the merged report would say "verified" of nothing.
  if (s.starts.length === 0) throw new CpuError('KERNSIM_CPU_BAD_ARGUMENT', 'searchStarts needs at least one start state');
  const plans: Partial<Record<Start, PlanData>> = { ...s.resume };
  const results = new Map<Start, SearchResult>();
  // Plans still running. A plan's data copies its seen keys, so it is made only when read (a
  // checkpoint file), not after every job: that copy grew with the search, once per job.
  const live = new Map<Start, SearchPlan>();
  const checkpoint = (): Readonly<Partial<Record<Start, PlanData>>> => {
    const view: Partial<Record<Start, PlanData>> = { ...plans };
    for (const [start, pl] of live) Object.defineProperty(view, start, { enumerable: true, configurable: true, get: () => pl.toData() });
    return view;
  };
  const pool = (s.threads ?? 1) > 1 ? new SearchPool(s.threads) : undefined;
  // The first start that failed: the others stop handing out jobs and finish the ones in flight.
  let failure: { readonly error: unknown } | undefined;
  const stopping = (): boolean => failure !== undefined || (s.shouldStop?.() ?? false);
  const one = async (start: Start): Promise<void> => {
    const p = { ...s.params, start } as unknown as Params;
    const saved = plans[start];
    const plan = saved ? SearchPlan.fromJSON(JSON.stringify(saved)) : new SearchPlan(p, s.chunk);
    live.set(start, plan);
    const hooks = {
      shouldStop: stopping,
      maxStates: s.maxStates,
      onJob: async (pl: SearchPlan) => {
        if (s.onJob) await s.onJob(start, checkpoint(), pl.states);
      },
    };
    let r: SearchResult;
    if (pool) {
      r = await pool.run({ module: s.model.module, export: s.model.export, params: p }, plan, hooks);
    } else {
      const { machine, options } = s.model.build(p);
      r = await searchInJobs(machine, options, plan, hooks);
    }
    plans[start] = plan.toData();
    live.delete(start);
    results.set(start, r);
  };
  if (pool) {
    // Not Promise.all: it rejects at the first failure, and the pool would be destroyed under the other starts' jobs.
    const failed = (e: unknown): void => {
      failure ??= { error: e };
    };
    // As many starts at a time as threads: no thread idles while one start finishes its last
    // jobs, and each thread holds the models, visited sets and frontier caches of those starts
    // only (the pool drops a start's when its plan ends), not of all of them at once.
    const waiting = [...s.starts];
    const lane = async (): Promise<void> => {
      for (let start = waiting.shift(); start !== undefined && !stopping(); start = waiting.shift()) await one(start).catch(failed);
    };
    try {
      await Promise.allSettled(Array.from({ length: Math.min(pool.threads, s.starts.length) }, lane));
    } finally {
      await pool.destroy();
    }
    if (failure) throw failure.error;
  } else {
    for (const start of s.starts) {
      await one(start);
      if (s.shouldStop?.()) break;
    }
  }
  const verdicts: StartVerdict<Start>[] = [];
  const violations: StartViolation<Start>[] = [];
  for (const start of s.starts) {
    const r = results.get(start);
    if (!r) continue;
    verdicts.push({ start, verdict: r.verdict, states: r.states, schedules: r.schedules, exhaustive: r.exhaustive, depth: r.depth });
    for (const v of r.violations) violations.push({ invariant: v.invariant, start, detail: v.detail, schedule: v.schedule });
  }
  const incomplete = verdicts.length < s.starts.length || verdicts.some((v) => v.verdict === 'incomplete');
  return {
    verdict: violations.length > 0 ? 'violated' : incomplete ? 'incomplete' : 'verified',
    budget: s.budget,
    states: verdicts.reduce((n, v) => n + v.states, 0),
    schedules: verdicts.reduce((n, v) => n + v.schedules, 0),
    violations,
    starts: verdicts,
    plans,
    params: s.params,
  };
}
