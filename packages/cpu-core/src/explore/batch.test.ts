import { describe, expect, it } from 'vitest';
import { buildCounterModel, buildNmiToyModel } from '../testing/counter-model.js';
import type { CounterModelParams } from '../testing/counter-model.js';
import { runBatch } from './batch.js';
import { FrontierCache } from './frontier-cache.js';
import { runPlan, searchInJobs } from './jobs.js';
import type { SearchResult } from './model.js';
import { SearchPlan } from './plan.js';
import { VisitedSet } from './visited-set.js';

const summary = (r: SearchResult) => ({ verdict: r.verdict, exhaustive: r.exhaustive, violations: r.violations.map((v) => [v.invariant, v.schedule.length]) });

describe('batches of jobs', () => {
  it('with no budget run exactly their jobs; with one, go on below them and hand back only what they did not enter', () => {
    const { machine, options } = buildNmiToyModel({ length: 40, nmis: 1 });
    const root = [{ prefix: [], key: 'root' }];
    const one = runBatch(machine, options, root, 4, 0, new VisitedSet(), new FrontierCache());
    expect(one.explored).toEqual([]);
    expect(one.frontier.length).toBeGreaterThan(0);
    // A budget beyond the first job's states: the batch goes on into what that job handed back.
    const budget = one.states + 1;
    const more = runBatch(machine, options, root, 4, budget, new VisitedSet(), new FrontierCache());
    expect(more.states).toBeGreaterThanOrEqual(budget);
    expect(more.explored!.length).toBeGreaterThan(0);
    // What the batch entered is not handed back, and each subtree is handed back once.
    const back = more.frontier.map((j) => j.key);
    expect(back.filter((k) => more.explored!.includes(k))).toEqual([]);
    expect(new Set(back).size).toBe(back.length);
    expect(more.frontier.every((j) => j.prefix.length % 4 === 0)).toBe(true);
  });

  it('run as a plan at any budget, reach the verdict and shortest counterexamples of the job by job search, each subtree once', async () => {
    // Without the reduction, so the state counts compare: with it, which reduced nodes the proviso expands depends on the order.
    const params: CounterModelParams = { cpus: 3, work: 1, atomic: false, reduction: false };
    const { machine, options } = buildCounterModel(params);
    const straight = await searchInJobs(machine, options, new SearchPlan(params, 3));
    expect(straight.verdict).toBe('violated');
    for (const budget of [0, 50, 1_000_000]) {
      const plan = new SearchPlan(params, 3);
      const visited = new VisitedSet();
      const cache = new FrontierCache();
      const r = await runPlan(plan, (jobs) => Promise.resolve(runBatch(machine, options, jobs, 3, budget, visited, cache)), { take: (pl) => pl.takeBatch(4) });
      expect(summary(r)).toEqual(summary(straight));
      // One thread, one visited set: not a state more than job by job.
      expect(r.states).toBe(straight.states);
      expect(plan.toData().seen.length).toBeGreaterThanOrEqual(plan.jobsRun - 1);
    }
  });
});
