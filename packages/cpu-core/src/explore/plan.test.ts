import { describe, expect, it } from 'vitest';
import { buildCounterModel } from '../testing/counter-model.js';
import type { CounterModelParams } from '../testing/counter-model.js';
import { runJob, runPlan, searchInJobs } from './jobs.js';
import type { SearchResult } from './model.js';
import { SearchPlan } from './plan.js';
import type { JobOutcome, SearchJob } from './plan.js';

const job = (key: string, cpu: number): SearchJob => ({ prefix: [{ kind: 'step', cpu }], key });
const outcome = (frontier: readonly SearchJob[]): JobOutcome => ({
  states: 1,
  transitions: frontier.length,
  schedules: 0,
  violations: [],
  cut: false,
  bounded: false,
  depth: 1,
  reducedNodes: 0,
  reductionWithdrawn: false,
  frontier,
});
/** The way a resume rebuilds a plan: from the checkpoint's JSON text. */
const resumed = (plan: SearchPlan): SearchPlan => SearchPlan.fromJSON(JSON.stringify(plan.toData()));
const drain = (plan: SearchPlan): string[] => {
  const keys: string[] = [];
  for (let j = plan.take(); j; j = plan.take()) keys.push(j.key);
  return keys;
};

describe('the search plan checkpoint', () => {
  // The root job, completed, hands back three subtrees.
  const started = (): SearchPlan => {
    const plan = new SearchPlan(null, 2);
    plan.complete(plan.take()!, outcome([job('a', 0), job('b', 1), job('c', 2)]));
    return plan;
  };

  it('keeps the jobs that are taken and still running: a resume runs them again', () => {
    const plan = started();
    expect([plan.take()!.key, plan.take()!.key]).toEqual(['a', 'b']);
    const back = resumed(plan);
    expect(back.toData().queue.map((j) => j.key)).toEqual(['a', 'b', 'c']);
    expect(drain(back)).toEqual(['a', 'b', 'c']);
    // Not finished while jobs run: a plan read at this point cannot say verified.
    expect(plan.result().verdict).toBe('incomplete');
  });

  it('drops a job once it is completed, and keeps one given back once', () => {
    const plan = started();
    const a = plan.take()!;
    const b = plan.take()!;
    plan.complete(a, outcome([]));
    expect(drain(resumed(plan))).toEqual(['b', 'c']);
    plan.giveBack(b);
    expect(plan.toData().queue.map((j) => j.key)).toEqual(['b', 'c']);
    expect(drain(plan)).toEqual(['b', 'c']);
  });

  it('when a job fails, hands out no more jobs, lets the ones in flight finish, then throws the error', async () => {
    const plan = started();
    const taken: string[] = [];
    const done: string[] = [];
    const turns = (n: number) => new Promise((r) => setTimeout(r, n));
    const exec = async ([j]: readonly SearchJob[]): Promise<JobOutcome> => {
      taken.push(j!.key);
      if (j!.key === 'a') {
        await turns(0);
        throw new Error('worker died');
      }
      await turns(20);
      done.push(j!.key);
      return outcome([job(`${j!.key}'`, 0)]);
    };
    await expect(runPlan(plan, exec, { concurrency: 2 })).rejects.toThrow('worker died');
    // b ran beside a and finished; c was never handed out.
    expect(taken).toEqual(['a', 'b']);
    expect(done).toEqual(['b']);
    expect(plan.jobsRun).toBe(2);
    expect(plan.toData().queue.map((j) => j.key)).toEqual(['a', 'c', "b'"]);
  });

  it('queues again the jobs a batch hands back unstarted, and never the subtrees it entered', () => {
    const plan = started();
    const batch = plan.takeBatch(3);
    expect(batch.map((j) => j.key)).toEqual(['a', 'b', 'c']);
    // The batch ran a and b, entered a' below a, and did not start c (its budget was spent).
    plan.complete(batch, { ...outcome([job('c', 2), job("a''", 0)]), explored: ["a'"] });
    expect(plan.jobsRun).toBe(4);
    const next = plan.takeBatch(8);
    expect(next.map((j) => j.key)).toEqual(['c', "a''"]);
    // Another thread hands back a' (it reached the same state): it was entered already.
    plan.complete(next, outcome([job("a'", 1), job('d', 0), job('e', 0)]));
    // A batch that enters d on its own (reaching it another way) before d is handed out: d is dropped.
    const f = plan.takeBatch(1);
    expect(f.map((j) => j.key)).toEqual(['d']);
    plan.giveBack(f);
    const g = [plan.take()!];
    plan.complete(g, { ...outcome([]), explored: ['e'] });
    expect(drain(plan)).toEqual([]);
  });

  it('gives a pool thread the jobs it found, else one job found elsewhere (of no thread first, then of the thread with most queued)', () => {
    const plan = new SearchPlan(null, 2);
    // The first job is no thread's (a pool takes such jobs before stealing any).
    expect([plan.unowned, plan.pending]).toEqual([1, 1]);
    plan.complete(plan.take()!, outcome([job('r0', 0), job('r1', 0)]));
    expect(plan.unowned).toBe(2);
    plan.complete(plan.takeBatch(1, 0), outcome(Array.from({ length: 6 }, (_, i) => job(`a${i}`, 0))), 0);
    plan.complete(plan.takeBatch(1, 1), outcome(Array.from({ length: 3 }, (_, i) => job(`b${i}`, 1))), 1);
    expect([plan.ownedBy(0), plan.ownedBy(1), plan.ownedBy(2), plan.pending]).toEqual([6, 3, 0, 9]);
    expect(plan.takeBatch(4, 1).map((j) => j.key)).toEqual(['b0', 'b1', 'b2']);
    // Thread 1 has none left: one of thread 0's (the thread with most queued), the oldest.
    expect(plan.takeBatch(4, 1).map((j) => j.key)).toEqual(['a0']);
    expect(plan.takeBatch(2, 0).map((j) => j.key)).toEqual(['a1', 'a2']);
    // Without an owner: the oldest of no thread, then of each thread.
    expect(plan.takeBatch(8).map((j) => j.key)).toEqual(['a3', 'a4', 'a5']);
  });

  it('puts the jobs a batch did not start back at the front of the queue they came from', () => {
    const p2 = new SearchPlan(null, 2);
    p2.complete(p2.takeBatch(1, 0), outcome(Array.from({ length: 5 }, (_, i) => job(`a${i}`, 0))), 0);
    const batch = p2.takeBatch(3, 0);
    // It ran a0 and handed back a1, a2 (not started) and what a0 found.
    p2.complete(batch, outcome([batch[1]!, batch[2]!, job('x', 1)]), 0);
    expect(p2.takeBatch(8, 0).map((j) => j.key)).toEqual(['a1', 'a2', 'a3', 'a4', 'x']);
    expect(p2.result().states).toBe(2);
  });

  it('refuses to complete a job that is not running', () => {
    const plan = started();
    const a = plan.take()!;
    plan.complete(a, outcome([]));
    expect(() => {
      plan.complete(a, outcome([]));
    }).toThrow(expect.objectContaining({ code: 'KERNSIM_CPU_BAD_ARGUMENT' }));
  });

  it('resumed from a checkpoint written while several jobs run, reaches the straight search verdict', async () => {
    const params: CounterModelParams = { cpus: 3, work: 1, atomic: true };
    const { machine, options } = buildCounterModel(params);
    const summary = (r: SearchResult) => ({ verdict: r.verdict, exhaustive: r.exhaustive, violations: r.violations.map((v) => [v.invariant, v.schedule.length]) });
    const straight = await searchInJobs(machine, options, new SearchPlan(params, 2));
    // A verified model: a resume that lost a subtree still says verified, only its state count shows the loss.
    expect(straight.verdict).toBe('verified');
    const checkpoints: string[] = [];
    // Three jobs in flight; each finishes a turn later than the next is handed out.
    const exec = async ([j]: readonly SearchJob[]): Promise<JobOutcome> => {
      await new Promise((r) => setTimeout(r, 0));
      return runJob(machine, options, j!, 2);
    };
    await runPlan(new SearchPlan(params, 2), exec, { concurrency: 3, onJob: (pl) => void checkpoints.push(JSON.stringify(pl.toData())) });
    expect(checkpoints.length).toBeGreaterThan(5);
    for (const text of checkpoints.slice(0, 5)) {
      const r = await searchInJobs(machine, options, SearchPlan.fromJSON(text));
      expect(summary(r)).toEqual(summary(straight));
      // The visited set is not in the checkpoint: a resume may visit states again, never fewer (a lost subtree would).
      expect(r.states).toBeGreaterThanOrEqual(straight.states);
    }
  });
});
