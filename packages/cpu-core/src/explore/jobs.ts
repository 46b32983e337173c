import type { Machine } from '../machine/machine.js';
import { FrontierCache } from './frontier-cache.js';
import type { SearchOptions, SearchResult } from './model.js';
import type { JobOutcome, SearchJob } from './plan.js';
import type { SearchPlan } from './plan.js';
import { SearchRunner } from './search-runner.js';
import { VisitedSet } from './visited-set.js';

/** Runs one subtree job on a machine at the search's start state: `chunk` levels below the prefix. The machine is left as it was. */
export function runJob(machine: Machine, options: SearchOptions, job: SearchJob, chunk: number, visited?: VisitedSet, cache?: FrontierCache): JobOutcome {
  const runner = runnerFor(machine, options);
  try {
    return jobOn(runner, job, chunk, visited, cache);
  } finally {
    runner.goHome();
  }
}

/**
 * The engines of earlier `runJob` calls, per machine: a worker runs every job of a plan on one
 * machine, and building the engine and capturing the start state for each job cost more than
 * many of its states. Reused only for the same options and while the machine is at the captured
 * start (the hash the search identifies states by says so).
 */
const runners = new WeakMap<Machine, SearchRunner>();

function runnerFor(machine: Machine, options: SearchOptions): SearchRunner {
  const old = runners.get(machine);
  if (old?.options === options && machine.hash() === old.home.hash) return old;
  const runner = new SearchRunner(machine, options);
  runners.set(machine, runner);
  return runner;
}

function jobOn(runner: SearchRunner, job: SearchJob, chunk: number, visited?: VisitedSet, cache?: FrontierCache): JobOutcome {
  const start = cache?.take(job.key, job.prefix);
  const r = runner.run({ prefix: job.prefix, frontierAt: job.prefix.length + chunk, ...(visited ? { visited } : {}), ...(start ? { start } : {}), ...(cache ? { frontierCache: cache } : {}) });
  return {
    states: r.states,
    transitions: r.transitions,
    schedules: r.schedules,
    violations: r.violations,
    cut: r.cut,
    bounded: r.bounded,
    depth: r.depth,
    reducedNodes: r.reducedNodes,
    reductionWithdrawn: r.reductionWithdrawn,
    frontier: r.frontier,
  };
}

/**
 * Runs a plan's jobs one after another on one machine, sharing one visited set and one frontier
 * cache: one engine for all, and the machine goes back to the start state only when a job must
 * replay its prefix from there (a job whose start is cached restores that instead) or at `finish`.
 */
export class JobRunner {
  readonly #runner: SearchRunner;
  readonly visited = new VisitedSet();
  readonly cache = new FrontierCache();

  constructor(
    machine: Machine,
    options: SearchOptions,
    readonly chunk: number,
  ) {
    this.#runner = new SearchRunner(machine, options);
  }

  run(job: SearchJob): JobOutcome {
    return jobOn(this.#runner, job, this.chunk, this.visited, this.cache);
  }

  /** Brings the machine back to the start state. */
  finish(): void {
    this.#runner.goHome();
  }
}

export interface PlanHooks {
  /** Jobs (or batches) in flight at once (the pool's slots). */
  readonly concurrency?: number;
  /** Asked before each new job: true stops handing out work (jobs in flight finish). */
  readonly shouldStop?: () => boolean;
  /** Stop handing out work once this many states were visited in all. */
  readonly maxStates?: number;
  /** After every finished job: e.g. write the checkpoint, print progress. */
  readonly onJob?: (plan: SearchPlan) => void | Promise<void>;
  /** Which queued jobs to run next, as one batch (default: the next job); empty when none is queued. */
  readonly take?: (plan: SearchPlan) => readonly SearchJob[];
}

/**
 * Drives a plan to its end (or a stop) with an executor that runs a batch of jobs (one job
 * unless `take` says otherwise; in this thread, or in a pool). A job or `onJob` that fails
 * stops the handing out of jobs; the ones in flight finish (a pool is not shut down under
 * them, their outcomes count) and the first error is thrown.
 */
export async function runPlan(plan: SearchPlan, exec: (jobs: readonly SearchJob[]) => Promise<JobOutcome>, hooks: PlanHooks = {}): Promise<SearchResult> {
  const width = Math.max(1, hooks.concurrency ?? 1);
  const take = hooks.take ?? ((pl: SearchPlan) => pl.takeBatch(1));
  const running = new Set<Promise<void>>();
  let failure: { readonly error: unknown } | undefined;
  const stopping = (): boolean => failure !== undefined || (hooks.shouldStop?.() ?? false) || (hooks.maxStates !== undefined && plan.states >= hooks.maxStates);
  for (;;) {
    while (running.size < width && !stopping()) {
      const jobs = take(plan);
      if (jobs.length === 0) break;
      const p: Promise<void> = exec(jobs)
        .then(
          (o) => {
            plan.complete(jobs, o);
          },
          (e: unknown) => {
            plan.giveBack(jobs);
            throw e;
          },
        )
        .then(() => hooks.onJob?.(plan))
        .catch((e: unknown) => {
          failure ??= { error: e };
        })
        .finally(() => running.delete(p));
      running.add(p);
    }
    if (running.size === 0) break;
    await Promise.race(running);
  }
  plan.stop();
  if (failure) throw failure.error;
  return plan.result();
}

/** The same search as `search`, as subtree jobs run one after another in this thread, sharing one visited set (same verdicts; a checkpointable plan). */
export async function searchInJobs(machine: Machine, options: SearchOptions, plan: SearchPlan, hooks: Omit<PlanHooks, 'concurrency' | 'take'> = {}): Promise<SearchResult> {
  const runner = new JobRunner(machine, options, plan.chunk);
  try {
    return await runPlan(plan, (jobs) => Promise.resolve(runner.run(jobs[0]!)), hooks);
  } finally {
    runner.finish();
  }
}
