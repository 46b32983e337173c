import { searchInJobs } from './jobs.js';
import type { SearchResult, StartsReport, StartVerdict, StartViolation } from './model.js';
import { SearchPlan } from './plan.js';
import type { PlanData } from './plan.js';
import { searchInPool } from './pool.js';
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
 * Runs the search from each start in turn (one thread, or a pool of `threads`), keeping every
 * start's plan as a checkpoint, and merges the results: violated if any start is, incomplete if
 * a start was cut short or not reached (a stop), else verified.
 */
export async function searchStarts<Start extends string, Params extends { readonly start: Start }>(s: StartsSearch<Start, Params>): Promise<StartsReport<Start, Params>> {
  const plans: Partial<Record<Start, PlanData>> = { ...s.resume };
  const verdicts: StartVerdict<Start>[] = [];
  const violations: StartViolation<Start>[] = [];
  for (const start of s.starts) {
    const p = { ...s.params, start } as unknown as Params;
    const saved = plans[start];
    const plan = saved ? SearchPlan.fromJSON(JSON.stringify(saved)) : new SearchPlan(p, s.chunk);
    const hooks = {
      ...(s.shouldStop ? { shouldStop: s.shouldStop } : {}),
      maxStates: s.maxStates,
      onJob: async (pl: SearchPlan) => {
        plans[start] = pl.toData();
        await s.onJob?.(start, plans, pl.states);
      },
    };
    let r: SearchResult;
    if ((s.threads ?? 1) > 1) {
      r = await searchInPool({ module: s.model.module, export: s.model.export, params: p }, plan, { ...hooks, threads: s.threads ?? 1 });
    } else {
      const { machine, options } = s.model.build(p);
      r = await searchInJobs(machine, options, plan, hooks);
    }
    plans[start] = plan.toData();
    verdicts.push({ start, verdict: r.verdict, states: r.states, schedules: r.schedules, exhaustive: r.exhaustive, depth: r.depth });
    for (const v of r.violations) violations.push({ invariant: v.invariant, start, detail: v.detail, schedule: v.schedule });
    if (s.shouldStop?.()) break;
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
