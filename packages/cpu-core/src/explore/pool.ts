import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setImmediate as turn } from 'node:timers/promises';
import Tinypool from 'tinypool';
import { runPlan } from './jobs.js';
import type { PlanHooks } from './jobs.js';
import { Lanes } from './lanes.js';
import type { SearchResult } from './model.js';
import type { JobOutcome, SearchJob, SearchPlan } from './plan.js';
import { packJob, unpackOutcome } from './transport.js';
import type { PackedOutcome } from './transport.js';
import { TaskRunner } from './worker.js';
import type { ModelRef, WorkerTask } from './worker.js';
import { sourceExecArgv, sourceWorker } from './worker-source.js';

export interface PoolOptions extends Omit<PlanHooks, 'concurrency' | 'take'> {
  /** Threads that search, this one included (default: the machine's cores). */
  readonly threads?: number;
}

export interface SearchPoolOptions {
  /** Whether this thread searches too (default true): `threads - 1` workers then, else `threads`. */
  readonly useThisThread?: boolean;
  /** States a task explores below its jobs before it hands the rest back (default `TASK_STATES`). */
  readonly taskStates?: number;
}

/** What one thread of a pool did, for a benchmark: when it could start, and how long it searched. */
export interface ThreadStats {
  readonly thread: string;
  /** Milliseconds from the pool's creation until the thread could take tasks (a worker loads its modules and builds its model). */
  readonly readyMs: number;
  readonly tasks: number;
  readonly states: number;
  /** Milliseconds it searched: the rest of the time since it was ready, it waited for tasks (or, for this thread, ran the pool). */
  readonly searchMs: number;
}

/** States a task explores below its jobs before it hands the rest back: tens of milliseconds of search, so a round trip is a small part of it and the last tasks end close together. */
export const TASK_STATES = 4096;
/** Queued jobs one task takes at most (fewer while the queue is short, so every thread gets some). */
const TASK_JOBS = 32;
/** Tasks a worker holds at once: it starts the second as it posts the first's result, while this thread is busy searching. */
const WORKER_SLOTS = 2;
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const WORKER = new URL(FROM_SOURCE ? './worker.ts' : './worker.js', import.meta.url).href;

interface Lane {
  readonly name: string;
  readyMs: number;
  tasks: number;
  states: number;
  searchMs: number;
}

/**
 * Runs subtree jobs on `threads` threads: tinypool workers, and this thread. Each task is a
 * batch of jobs and a state budget (see `runBatch`); only jobs (schedule prefixes) and
 * outcomes cross threads, so a multi-machine runner can take the same tasks. Each thread
 * builds a model from its `ModelRef` once and keeps it, with the states it explored and the
 * starts of the jobs it handed back, for later tasks: a task goes to the thread that found its
 * jobs whenever that thread has room, and an idle thread takes others' jobs rather than wait.
 * This thread searches from the start, while the workers load their modules and build their
 * models, and between its tasks lets the event loop turn (workers' results, a Ctrl-C, a
 * checkpoint write). Several plans (a domain's start states) may run on one pool at once:
 * their tasks queue for the threads, so no thread idles while one plan finishes its last jobs.
 */
export class SearchPool {
  readonly threads: number;
  readonly #workers: Tinypool[];
  readonly #here: TaskRunner | undefined;
  /** The workers' lanes, then this thread's (the last: it takes a task when the workers hold theirs). */
  readonly #lanes: Lanes;
  readonly #stats: Lane[];
  readonly #born = performance.now();
  readonly #taskStates: number;
  readonly #bundles = new Map<string, string>();
  #warming = false;

  constructor(threads = availableParallelism(), options: SearchPoolOptions = {}) {
    this.threads = Math.max(1, threads);
    this.#taskStates = options.taskStates ?? TASK_STATES;
    const here = options.useThisThread ?? true;
    const tiny = { minThreads: 1, maxThreads: 1, concurrentTasksPerWorker: WORKER_SLOTS, ...(FROM_SOURCE ? { execArgv: sourceExecArgv() } : {}) };
    this.#workers = Array.from({ length: this.threads - (here ? 1 : 0) }, () => new Tinypool(tiny));
    this.#here = here ? new TaskRunner() : undefined;
    this.#lanes = new Lanes([...this.#workers.map(() => 0), ...(here ? [1] : [])]);
    const lane = (name: string): Lane => ({ name, readyMs: Number.NaN, tasks: 0, states: 0, searchMs: 0 });
    this.#stats = [...this.#workers.map((_, i) => lane(`worker ${i + 1}`)), ...(here ? [{ ...lane('this thread'), readyMs: 0 }] : [])];
  }

  /** Per thread: when it was ready, and what it searched (all plans run so far). */
  get stats(): readonly ThreadStats[] {
    return this.#stats.map((l) => ({ thread: l.name, readyMs: l.readyMs, tasks: l.tasks, states: l.states, searchMs: l.searchMs }));
  }

  /** Runs a plan to its end (or a stop) on the threads. */
  run(ref: ModelRef, plan: SearchPlan, hooks: Omit<PlanHooks, 'concurrency' | 'take'> = {}): Promise<SearchResult> {
    this.#warm(ref);
    const slots = this.#workers.length * WORKER_SLOTS + (this.#here ? 1 : 0);
    // Which thread found each queued job (and so holds its start).
    const finder = new Map<string, number>();
    const take = (pl: SearchPlan): SearchJob[] => {
      const lane = this.#lanes.free;
      const size = Math.max(1, Math.min(TASK_JOBS, Math.floor(pl.pending / slots)));
      return pl.takeBatch(size, lane < 0 ? undefined : (job) => finder.get(job.key) === lane);
    };
    const exec = async (jobs: readonly SearchJob[]): Promise<JobOutcome> => {
      const lane = await this.#lanes.acquire(finder.get(jobs[0]!.key));
      for (const j of jobs) finder.delete(j.key);
      try {
        const { out, searchMs } = await this.#task(lane, ref, jobs, plan.chunk);
        for (const j of out.frontier) finder.set(j.key, lane);
        const s = this.#stats[lane]!;
        s.tasks++;
        s.states += out.states;
        s.searchMs += searchMs;
        return out;
      } finally {
        this.#lanes.release(lane);
      }
    };
    return held(
      runPlan(plan, exec, { ...hooks, concurrency: slots, take }).finally(() => {
        this.#forget(ref);
      }),
    );
  }

  /** After a plan: each thread drops its model and states (a domain's starts run one after another on one pool). */
  #forget(ref: ModelRef): void {
    this.#here?.forget(ref);
    for (const w of this.#workers) w.run(ref, { name: 'forgetModel', filename: this.#filename(ref.module) }).catch(() => undefined);
  }

  async #task(lane: number, ref: ModelRef, jobs: readonly SearchJob[], chunk: number): Promise<{ readonly out: JobOutcome; readonly searchMs: number }> {
    const worker = this.#workers[lane];
    if (!worker) {
      await turn();
      // A quarter of a worker's budget: while this thread searches, a worker's results wait for it.
      const { outcome, searchMs } = await this.#here!.run(ref, jobs, chunk, this.#taskStates / 4);
      return { out: outcome, searchMs };
    }
    const task: WorkerTask = { ref, jobs: jobs.map(packJob), chunk, budget: this.#taskStates };
    const packed = (await worker.run(task, { name: 'runWorkerTask', filename: this.#filename(ref.module) })) as PackedOutcome;
    return { out: unpackOutcome(packed), searchMs: packed.searchMs ?? 0 };
  }

  /** Starts each worker's modules and model (the first plan's) and opens its lane when it is ready; one that fails opens too, and its first task fails the same way. */
  #warm(ref: ModelRef): void {
    if (this.#warming) return;
    this.#warming = true;
    this.#workers.forEach((w, lane) => {
      const open = (): void => {
        this.#stats[lane]!.readyMs = performance.now() - this.#born;
        this.#lanes.open(lane, WORKER_SLOTS);
      };
      w.run(ref, { name: 'warmWorker', filename: this.#filename(ref.module) }).then(open, open);
    });
  }

  /** The module the workers load for models from `module`: the worker itself, or from the sources a bundle of it and the model (see `sourceWorker`). */
  #filename(module: string): string {
    if (!FROM_SOURCE) return WORKER;
    let f = this.#bundles.get(module);
    if (f === undefined) {
      f = sourceWorker(WORKER, module);
      this.#bundles.set(module, f);
    }
    return f;
  }

  destroy(): Promise<void> {
    return held(Promise.all(this.#workers.map((l) => l.destroy())).then(() => undefined));
  }
}

/**
 * Keeps the event loop alive until the promise settles. tinypool unrefs its workers and holds
 * the loop only through a task's port once the task is posted: while a worker starts or exits
 * after `destroy`, nothing may, the loop drains and the process ends mid-await (exit code 13,
 * no output).
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
