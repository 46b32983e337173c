import { availableParallelism } from 'node:os';
import Tinypool from 'tinypool';
import { runPlan } from './jobs.js';
import type { PlanHooks } from './jobs.js';
import type { SearchResult } from './model.js';
import type { JobOutcome, SearchJob, SearchPlan } from './plan.js';
import type { ModelRef, WorkerTask } from './worker.js';

export interface PoolOptions extends Omit<PlanHooks, 'concurrency'> {
  /** Worker threads (default: the machine's cores). */
  readonly threads?: number;
}

/**
 * Workers (tinypool) that run subtree jobs. Each builds a model from its `ModelRef` once and
 * keeps it, with the states it explored, for later jobs; only jobs (schedule prefixes) and
 * outcomes cross threads, so a multi-machine runner can take the same jobs. From the
 * TypeScript sources the workers are child processes that load the sources through tsx,
 * as the caller does (worker threads take no module hooks from execArgv).
 */
export class SearchPool {
  readonly threads: number;
  readonly #pool: Tinypool;

  constructor(threads = availableParallelism()) {
    this.threads = Math.max(1, threads);
    const fromSource = import.meta.url.endsWith('.ts');
    this.#pool = new Tinypool({
      filename: new URL(fromSource ? './worker.ts' : './worker.js', import.meta.url).href,
      minThreads: this.threads,
      maxThreads: this.threads,
      ...(fromSource ? { runtime: 'child_process' as const, execArgv: ['--import', import.meta.resolve('tsx'), '--conditions=@kernsim/source'] } : {}),
    });
  }

  /** Runs a plan to its end (or a stop) on the workers. */
  run(ref: ModelRef, plan: SearchPlan, hooks: Omit<PlanHooks, 'concurrency'> = {}): Promise<SearchResult> {
    const exec = (job: SearchJob): Promise<JobOutcome> => this.#pool.run({ ref, job, chunk: plan.chunk } satisfies WorkerTask, { name: 'runWorkerTask' }) as Promise<JobOutcome>;
    return runPlan(plan, exec, { ...hooks, concurrency: this.threads });
  }

  destroy(): Promise<void> {
    return this.#pool.destroy();
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
