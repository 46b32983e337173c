import { availableParallelism } from 'node:os';
import Tinypool from 'tinypool';
import { runPlan } from './jobs.js';
import type { PlanHooks } from './jobs.js';
import { Lanes } from './lanes.js';
import type { SearchResult } from './model.js';
import type { JobOutcome, SearchJob, SearchPlan } from './plan.js';
import { packJob, unpackOutcome } from './transport.js';
import type { PackedOutcome } from './transport.js';
import type { ModelRef, WorkerTask } from './worker.js';

export interface PoolOptions extends Omit<PlanHooks, 'concurrency' | 'prefer'> {
  /** Worker threads (default: the machine's cores). */
  readonly threads?: number;
}

/**
 * Workers (tinypool) that run subtree jobs. Each builds a model from its `ModelRef` once and
 * keeps it, with the states it explored and the starts of the jobs it handed back, for later
 * jobs; only jobs (schedule prefixes) and outcomes cross threads, so a multi-machine runner can
 * take the same jobs. Each worker is a pool of one, so a job goes back to the worker that found
 * it (which restores its start instead of replaying the prefix) whenever that worker is free; an
 * idle worker takes another's job rather than wait. Several plans (a domain's start states) may
 * run on one pool at once: their jobs queue for the workers, so no worker idles while one plan
 * finishes its last jobs and the workers start once for all of them. From the TypeScript sources the workers are
 * child processes that load the sources through tsx, as the caller does (worker threads take no
 * module hooks from execArgv).
 */
export class SearchPool {
  readonly threads: number;
  readonly #lanes: Tinypool[];
  /** Which workers run a job; jobs wait for one first come first served. */
  readonly #free: Lanes;

  constructor(threads = availableParallelism()) {
    this.threads = Math.max(1, threads);
    const fromSource = import.meta.url.endsWith('.ts');
    const options = {
      filename: new URL(fromSource ? './worker.ts' : './worker.js', import.meta.url).href,
      minThreads: 1,
      maxThreads: 1,
      ...(fromSource ? { runtime: 'child_process' as const, execArgv: ['--import', import.meta.resolve('tsx'), '--conditions=@kernsim/source'] } : {}),
    };
    this.#lanes = Array.from({ length: this.threads }, () => new Tinypool(options));
    this.#free = new Lanes(this.threads);
  }

  /** Runs a plan to its end (or a stop) on the workers. */
  run(ref: ModelRef, plan: SearchPlan, hooks: Omit<PlanHooks, 'concurrency' | 'prefer'> = {}): Promise<SearchResult> {
    // Which worker found each queued job (and so holds its start).
    const finder = new Map<string, number>();
    const exec = async (job: SearchJob): Promise<JobOutcome> => {
      const lane = await this.#free.acquire(finder.get(job.key));
      finder.delete(job.key);
      try {
        const task: WorkerTask = { ref, job: packJob(job), chunk: plan.chunk };
        const out = unpackOutcome((await this.#lanes[lane]!.run(task, { name: 'runWorkerTask' })) as PackedOutcome);
        for (const j of out.frontier) finder.set(j.key, lane);
        return out;
      } finally {
        this.#free.release(lane);
      }
    };
    const prefer = (): ((job: SearchJob) => boolean) => {
      const lane = this.#free.free;
      return (job) => finder.get(job.key) === lane;
    };
    return held(runPlan(plan, exec, { ...hooks, concurrency: this.threads, prefer }));
  }

  destroy(): Promise<void> {
    return held(Promise.all(this.#lanes.map((l) => l.destroy())).then(() => undefined));
  }
}

/**
 * Keeps the event loop alive until the promise settles. tinypool unrefs its child processes
 * and their IPC channels and holds the loop only through a task's port once the task is posted:
 * while a child starts (seconds through tsx on a loaded host) or exits after `destroy` (it waits
 * for the exit event with a one-second SIGKILL timer as the only handle) nothing does, the loop
 * drains and the process ends mid-await (exit code 13, no output).
 */
async function held<T>(p: Promise<T>): Promise<T> {
  const hold = setInterval(() => undefined, 1000);
  try {
    return await p;
  } finally {
    clearInterval(hold);
  }
}

/** One plan on a pool of its own (started and stopped around it). */
export async function searchInPool(ref: ModelRef, plan: SearchPlan, options: PoolOptions = {}): Promise<SearchResult> {
  const pool = new SearchPool(options.threads);
  try {
    return await pool.run(ref, plan, options);
  } finally {
    await pool.destroy();
  }
}
