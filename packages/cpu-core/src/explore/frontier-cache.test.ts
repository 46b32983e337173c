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

  it('gives a node only for the prefix it was found along', () => {
    const { machine } = buildCounterModel({ cpus: 2, work: 1, atomic: false });
    const cache = new FrontierCache(2);
    const node = (prefix: Choice[]) => ({ prefix, anchor: machine.snapshot(), anchorDepth: prefix.length, budgets: new Int32Array(0), monitors: [] });
    cache.keep('a', node([step(0)]));
    expect(cache.take('a', [step(1)])).toBeUndefined();
    cache.keep('b', node([step(1)]));
    expect(cache.take('b', [step(1)])?.prefix).toEqual([step(1)]);
    expect(cache.size).toBe(0);
  });

  it('holds at most `capacity` snapshots: later nodes keep their monitors and budgets only, and their jobs still explore the same', () => {
    const { machine, options } = buildCounterModel({ cpus: 2, work: 2, atomic: false, reduction: false });
    const cache = new FrontierCache(1);
    const parent = runJob(machine, options, { prefix: [], key: 'root' }, 4, new VisitedSet(), cache);
    expect(parent.frontier.length).toBeGreaterThan(1);
    expect(cache.anchors).toBe(1);
    expect(cache.size).toBe(parent.frontier.length);
    for (const job of parent.frontier) {
      const cached = runJob(machine, options, job, 4, new VisitedSet(), cache);
      expect(cached).toEqual(runJob(machine, options, job, 4, new VisitedSet()));
      expect(cache.anchors).toBeLessThanOrEqual(1);
    }
  });

  it('drops the oldest nodes past 16 × capacity (found here, run by another worker)', () => {
    const cache = new FrontierCache(1);
    const node = (n: number) => ({ prefix: [step(n)], anchor: undefined, anchorDepth: 0, budgets: new Int32Array(0), monitors: [] });
    for (let n = 0; n <= 16; n++) cache.keep(`k${n}`, node(n));
    expect(cache.size).toBe(16);
    expect(cache.take('k0', [step(0)])).toBeUndefined();
    expect(cache.take('k16', [step(16)])?.prefix).toEqual([step(16)]);
  });
});
