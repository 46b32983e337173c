import { describe, expect, it } from 'vitest';
import { Lanes } from './lanes.js';

const turn = () => new Promise((r) => setTimeout(r, 0));

describe('the pool lanes', () => {
  it('hand a lane to its owner when free, else any free lane, and wait when all are busy', async () => {
    const lanes = new Lanes([1, 1]);
    expect(await lanes.acquire(1)).toBe(1);
    expect(await lanes.acquire(1)).toBe(0);
    expect(lanes.free).toBe(-1);
    let got: number | undefined;
    void lanes.acquire().then((l) => (got = l));
    await turn();
    expect(got).toBeUndefined();
    lanes.release(1);
    await turn();
    expect(got).toBe(1);
    lanes.release(0);
    expect(lanes.free).toBe(0);
  });

  it('serve waiters first come first served, even when a job arrives as a lane is freed', async () => {
    const lanes = new Lanes([1]);
    await lanes.acquire();
    const order: string[] = [];
    // Each job holds its lane for a turn, then frees it.
    const job = async (name: string) => {
      const lane = await lanes.acquire();
      order.push(name);
      await turn();
      lanes.release(lane);
    };
    const waiting = [job('first'), job('second')];
    lanes.release(0);
    // Arrives in the same turn as the release, before the woken waiter runs.
    waiting.push(job('late'));
    await Promise.all(waiting);
    expect(order).toEqual(['first', 'second', 'late']);
    expect(lanes.free).toBe(0);
  });

  it('give a lane not ready no task until it is opened, then as many as its slots, waiters first', async () => {
    // A worker still starting (no slots yet), and this thread (one).
    const lanes = new Lanes([0, 1]);
    expect(await lanes.acquire(0)).toBe(1);
    const got: number[] = [];
    for (let i = 0; i < 3; i++) void lanes.acquire().then((l) => got.push(l));
    await turn();
    expect(got).toEqual([]);
    lanes.open(0, 2);
    await turn();
    expect(got).toEqual([0, 0]);
    expect(lanes.free).toBe(-1);
    lanes.release(1);
    await turn();
    expect(got).toEqual([0, 0, 1]);
  });
});
