import { describe, expect, it } from 'vitest';
import { buildCounterStart } from '../testing/counter-model.js';
import type { PlanData } from './plan.js';
import { searchStarts } from './starts-search.js';

type Start = 'atomic' | 'plain';
const search = (threads: number, onJob?: (start: Start, plans: Readonly<Partial<Record<Start, PlanData>>>) => void | Promise<void>) =>
  searchStarts<Start, { cpus: number; work: number; reduction: boolean; start: Start }>({
    starts: ['plain', 'atomic'],
    params: { cpus: 2, work: 2, reduction: false },
    model: { build: buildCounterStart, module: new URL('../testing/counter-model.ts', import.meta.url).href, export: 'buildCounterStart' },
    budget: 'test',
    chunk: 3,
    maxStates: 100_000,
    threads,
    ...(onJob ? { onJob } : {}),
  });

describe('searches over start states', () => {
  it('on one pool, runs every start to the same verdicts and shortest violations as in one thread, in start order', async () => {
    const one = await search(1);
    const checkpoints: string[] = [];
    const two = await search(2, (_start, plans) => {
      checkpoints.push(JSON.stringify(plans));
    });
    expect(one.verdict).toBe('violated');
    expect(two.starts.map((s) => [s.start, s.verdict, s.exhaustive])).toEqual(one.starts.map((s) => [s.start, s.verdict, s.exhaustive]));
    expect(two.violations.map((v) => [v.invariant, v.start, v.schedule.length])).toEqual(one.violations.map((v) => [v.invariant, v.start, v.schedule.length]));
    // The checkpoint handed to onJob is each running start's plan as it stands (read when serialised).
    const last = JSON.parse(checkpoints.at(-1)!) as Record<string, PlanData>;
    expect(Object.keys(last).sort()).toEqual(['atomic', 'plain']);
    expect(last.plain!.version).toBe(1);
    expect(Object.values(last).some((p) => p.queue.length === 0)).toBe(true);
  }, 60_000);

  it('on one pool, when a start fails, lets the other starts finish their jobs in flight and throws the first error', async () => {
    let failed = false;
    let begun = 0;
    let finished = 0;
    // The first job to finish, of either start, fails: the other start's first job is still in flight.
    const run = search(2, async () => {
      if (!failed) {
        failed = true;
        throw new Error('checkpoint disk full');
      }
      // The other start's checkpoint after the failure takes a while (a slow disk): the search must wait for it, not tear the pool down under it.
      begun++;
      await new Promise((r) => setTimeout(r, 1500));
      finished++;
    });
    await expect(run).rejects.toThrow('checkpoint disk full');
    expect(begun).toBeGreaterThan(0);
    expect(finished).toBe(begun);
  }, 60_000);
});
