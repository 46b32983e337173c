import { describe, expect, it } from 'vitest';
import { buildCounterModel } from '../testing/counter-model.js';
import type { CounterModelParams } from '../testing/counter-model.js';
import { searchInJobs } from './jobs.js';
import type { SearchResult } from './model.js';
import { SearchPlan } from './plan.js';
import { SearchPool, searchInPool } from './pool.js';
import { search } from './search-api.js';

const params: CounterModelParams = { cpus: 3, work: 1, atomic: false };
const summary = (r: SearchResult) => ({ verdict: r.verdict, violations: r.violations.map((v) => [v.invariant, v.schedule.length, v.detail]) });

describe('subtree jobs', () => {
  it('split into many small jobs, the search reaches the same verdict and the same shortest counterexamples', async () => {
    const { machine, options } = buildCounterModel(params);
    const whole = search(machine, options);
    const plan = new SearchPlan(params, 3);
    const split = await searchInJobs(machine, options, plan);
    expect(plan.jobsRun).toBeGreaterThan(5);
    expect(summary(split)).toEqual(summary(whole));
    expect(split.verdict).toBe('violated');
  });

  it('stops, saves a checkpoint, and resumes from it to the same result', async () => {
    const { machine, options } = buildCounterModel(params);
    const straight = await searchInJobs(machine, options, new SearchPlan(params, 3));
    const first = new SearchPlan(params, 3);
    let jobs = 0;
    const partial = await searchInJobs(machine, options, first, { shouldStop: () => jobs++ >= 4 });
    expect(partial.exhaustive).toBe(false);
    const text = JSON.stringify(first.toData());
    const resumed = SearchPlan.fromJSON(text);
    expect(resumed.model).toEqual(params);
    const rest = await searchInJobs(machine, options, resumed);
    expect(summary(rest)).toEqual(summary(straight));
    // The visited set is not in the checkpoint: the resumed run may explore a few states again, never fewer.
    expect(rest.states).toBeGreaterThan(0);
    expect(Math.abs(rest.states - straight.states)).toBeLessThan(straight.states / 10);
  });

  it('refuses a file that is not a checkpoint', () => {
    expect(() => SearchPlan.fromJSON('{')).toThrow(expect.objectContaining({ code: 'KERNSIM_CPU_CHECKPOINT' }));
    expect(() => SearchPlan.fromJSON('{"version":2}')).toThrow(expect.objectContaining({ code: 'KERNSIM_CPU_CHECKPOINT' }));
  });

  it('runs the jobs on two pool workers, and on a worker and this thread, with the same outcome', async () => {
    // Without the reduction, so the state counts compare: with it, which reduced nodes the proviso expands depends on what each worker saw.
    const full: CounterModelParams = { ...params, reduction: false };
    const { machine, options } = buildCounterModel(full);
    const here = await searchInJobs(machine, options, new SearchPlan(full, 4));
    const ref = { module: new URL('../testing/counter-model.ts', import.meta.url).href, export: 'buildCounterModel', params: full };
    // Workers only: every state is searched in a worker thread (from the sources: the bundled worker).
    const workers = new SearchPool(2, { useThisThread: false, taskStates: 50 });
    try {
      const pooled = await workers.run(ref, new SearchPlan(full, 4));
      expect(summary(pooled)).toEqual(summary(here));
      // One visited table for both workers: a state reached from both workers' jobs is searched once.
      expect(pooled.states).toBeGreaterThanOrEqual(here.states);
      expect(pooled.states).toBeLessThan(here.states * 1.05);
      const stats = workers.stats;
      expect(stats.map((t) => t.thread)).toEqual(['worker 1', 'worker 2']);
      expect(stats.reduce((n, t) => n + t.states, 0)).toBe(pooled.states);
      // A worker that took tasks was ready first; one may still be loading when a small plan ends (readyMs NaN, no tasks).
      expect(stats.every((t) => t.tasks === 0 || t.readyMs >= 0)).toBe(true);
      expect(stats.some((t) => t.tasks > 0 && t.readyMs >= 0)).toBe(true);
    } finally {
      await workers.destroy();
    }
    const mixed = await searchInPool(ref, new SearchPlan(full, 4), { threads: 2 });
    expect(summary(mixed)).toEqual(summary(here));
  }, 60_000);
});
