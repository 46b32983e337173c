import { describe, expect, it } from 'vitest';
import { MAX_SEARCH_THREADS, searchPoolProblem } from './pool-limits.js';
import { searchStarts } from './starts-search.js';

describe('a search budget and pool that cannot run', () => {
  it('names what is wrong, and accepts what can run', () => {
    expect(searchPoolProblem(Number.NaN, undefined)).toBe('maxStates must be a positive integer, got NaN');
    for (const bad of [0, -1, 1.5, Infinity]) expect(searchPoolProblem(bad, 1)).toMatch(/^maxStates must be a positive integer/);
    for (const bad of [0, 1.5, Number.NaN, MAX_SEARCH_THREADS + 1, 1e9]) expect(searchPoolProblem(1000, bad)).toMatch(/^threads must be an integer from 1 to 256/);
    expect(searchPoolProblem(undefined, undefined)).toBeUndefined();
    expect(searchPoolProblem(1, MAX_SEARCH_THREADS)).toBeUndefined();
  });

  it('searchStarts refuses them as a CpuError before it builds a model or starts a worker', async () => {
    let built = 0;
    const search = (threads: number) =>
      searchStarts({
        starts: ['a'],
        params: {},
        model: { build: () => { built++; throw new Error('not reached'); }, module: 'unused', export: 'unused' },
        budget: 'states',
        chunk: 100,
        maxStates: 1000,
        threads,
      });
    await expect(search(1e9)).rejects.toMatchObject({ name: 'CpuError', code: 'KERNSIM_CPU_BAD_ARGUMENT' });
    await expect(search(0)).rejects.toMatchObject({ code: 'KERNSIM_CPU_BAD_ARGUMENT' });
    expect(built).toBe(0);
  });

  it('searchStarts refuses an empty list of start states instead of verifying nothing', async () => {
    const none = searchStarts({ starts: [], params: {}, model: { build: () => { throw new Error('not reached'); }, module: 'unused', export: 'unused' }, budget: 'states', chunk: 100, maxStates: 1000 });
    await expect(none).rejects.toMatchObject({ name: 'CpuError', code: 'KERNSIM_CPU_BAD_ARGUMENT' });
  });
});
