import { availableParallelism } from 'node:os';
import Tinypool from 'tinypool';
import { runPlan } from './jobs.js';
import type { PlanHooks } from './jobs.js';
import type { SearchResult } from './model.js';
import type { JobOutcome, SearchPlan } from './plan.js';
import type { ModelRef, WorkerTask } from './worker.js';

export interface PoolOptions extends Omit<PlanHooks, 'concurrency'> {
  /** Worker threads (default: the machine's cores). */
  readonly threads?: number;
}

/**
 * Runs a plan's jobs on worker threads (tinypool). Each worker builds the model from `ref`
 * once and runs jobs on its own machine; only jobs (schedule prefixes) and outcomes cross
 * threads, so a multi-machine runner can take the same jobs. From the TypeScript sources the
 * workers load them through tsx, as the caller does.
 */
export async function searchInPool(ref: ModelRef, plan: SearchPlan, options: PoolOptions = {}): Promise<SearchResult> {
  const threads = Math.max(1, options.threads ?? availableParallelism());
  const fromSource = import.meta.url.endsWith('.ts');
  const pool = new Tinypool({
    filename: new URL(fromSource ? './worker.ts' : './worker.js', import.meta.url).href,
    minThreads: threads,
    maxThreads: threads,
    // Worker threads take no module hooks from execArgv: from the sources, child processes run through tsx.
    ...(fromSource ? { runtime: 'child_process' as const, execArgv: ['--import', import.meta.resolve('tsx'), '--conditions=@kernsim/source'] } : {}),
  });
  try {
    const exec = (job: WorkerTask['job']): Promise<JobOutcome> => pool.run({ ref, job, chunk: plan.chunk } satisfies WorkerTask, { name: 'runWorkerTask' }) as Promise<JobOutcome>;
    return await runPlan(plan, exec, { ...options, concurrency: threads });
  } finally {
    await pool.destroy();
  }
}
