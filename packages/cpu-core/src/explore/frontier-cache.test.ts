import { describe, expect, it } from 'vitest';
import { buildCounterModel } from '../testing/counter-model.js';
import { FrontierCache } from './frontier-cache.js';
import { runJob } from './jobs.js';
import { VisitedSet } from './visited-set.js';
import type { Choice } from './model.js';

const step = (cpu: number): Choice => ({ kind: 'step', cpu });

describe('the frontier cache', () => {
  it('a job started from the node its parent job kept explores what a job replaying its prefix explores', () => {
    const { machine, options } = buildCounterModel({ cpus: 2, work: 2, atomic: false, reduction: false });
    const cache = new FrontierCache();
    const parent = runJob(machine, options, { prefix: [], key: 'root' }, 4, new VisitedSet(), cache);
    expect(parent.frontier.length).toBeGreaterThan(1);
    expect(cache.size).toBe(parent.frontier.length);
    for (const job of parent.frontier) {
      const cached = runJob(machine, options, job, 4, new VisitedSet(), cache);
      const replayed = runJob(machine, options, job, 4, new VisitedSet());
      expect(cached).toEqual(replayed);
      // Taken, not kept for a second run.
      expect(cache.take(job.key, job.prefix)).toBeUndefined();
    }
  });

  it('gives a node only for the prefix it was found along, and drops the oldest when full', () => {
    const { machine } = buildCounterModel({ cpus: 2, work: 1, atomic: false });
    const cache = new FrontierCache(2);
    const node = (prefix: Choice[]) => ({ prefix, snapshot: machine.snapshot(), budgets: new Int32Array(0), monitors: [] });
    cache.keep('a', node([step(0)]));
    expect(cache.take('a', [step(1)])).toBeUndefined();
    cache.keep('a', node([step(0)]));
    cache.keep('b', node([step(1)]));
    cache.keep('c', node([step(0), step(1)]));
    expect(cache.take('a', [step(0)])).toBeUndefined();
    expect(cache.take('b', [step(1)])?.prefix).toEqual([step(1)]);
    expect(cache.take('c', [step(0), step(1)])?.prefix).toEqual([step(0), step(1)]);
  });
});
