import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setImmediate as turn } from 'node:timers/promises';
import Tinypool from 'tinypool';
import type { PlanHooks } from './jobs.js';
import type { SearchResult } from './model.js';
import type { JobOutcome, SearchJob, SearchPlan } from './plan.js';
import { packJob, unpackOutcome } from './transport.js';
import type { PackedOutcome } from './transport.js';
import { VisitedSet } from './visited-set.js';
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
/** Queued jobs one task takes at most. */
const TASK_JOBS = 32;
/** Tasks a worker holds at once: it starts the second as it posts the first's result, while this thread is busy searching. */
const WORKER_SLOTS = 2;
/**
 * Keys a plan's shared visited table holds before each thread adds to a set of its own: 1 M
 * keys, a table of 16 MiB. A probe is a cache miss in any table this size, and more so in a
 * larger one: at 6 M keys (64 MiB) probing took 13 % of the threads' time on the default NMI
 * search, whose largest start keys 0.71 M states (runs of one-choice nodes are keyed every 8th
 * state only). A plan with a smaller state budget gets a smaller table.
 */
const SHARED_KEYS = 1 << 20;
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const WORKER = new URL(FROM_SOURCE ? './worker.ts' : './worker.js', import.meta.url).href;

interface Lane {
  readonly name: string;
  readyMs: number;
  tasks: number;
  states: number;
  searchMs: number;
  /** Tasks it may hold at once (0 until a worker is ready), and holds. */
  slots: number;
  busy: number;
}

/** A plan running on the pool. */
interface PlanRun {
  readonly ref: ModelRef;
  /** The plan's visited table, one for all threads. */
  readonly visited: SharedArrayBuffer;
  readonly plan: SearchPlan;
  readonly hooks: PoolOptions;
  /** Its tasks in flight (and their `onJob`). */
  running: number;
  failure: { readonly error: unknown } | undefined;
  readonly settle: (r: { readonly result: SearchResult } | { readonly error: unknown }) => void;
}

/**
 * Runs subtree jobs on `threads` threads: tinypool workers, and this thread. Each task is a
 * batch of jobs and a state budget (see `runBatch`); only jobs (schedule prefixes) and
 * outcomes cross threads, so a multi-machine runner can take the same tasks. Each thread
 * builds a model from its `ModelRef` once and keeps it, with the states it explored and the
 * starts of the jobs it handed back, for later tasks. Threads pull their work: a thread with a
 * free slot takes the jobs it found itself (it holds their starts), of the oldest plan that
 * has some, and only when it has none anywhere one job found elsewhere, which it replays from
 * the start state and then searches below. This thread searches from the start, while the
 * workers load their modules and build their models, and between its tasks lets the event
 * loop turn (workers' results, a Ctrl-C, a checkpoint write). Several plans (a domain's start
 * states) may run on one pool at once: no thread idles while one plan finishes its last jobs.
 */
export class SearchPool {
  readonly threads: number;
  readonly #workers: Tinypool[];
  readonly #here: TaskRunner | undefined;
  /** The workers' lanes, then this thread's (the last: the workers are fed first, for this thread's task keeps the event loop busy). */
  readonly #lanes: Lane[];
  readonly #born = performance.now();
  readonly #taskStates: number;
  readonly #bundles = new Map<string, string>();
  readonly #runs: PlanRun[] = [];
  #warming = false;

  constructor(threads = availableParallelism(), options: SearchPoolOptions = {}) {
    this.threads = Math.max(1, threads);
    this.#taskStates = options.taskStates ?? TASK_STATES;
    const here = options.useThisThread ?? true;
    const tiny = { minThreads: 1, maxThreads: 1, concurrentTasksPerWorker: WORKER_SLOTS, ...(FROM_SOURCE ? { execArgv: sourceExecArgv() } : {}) };
    this.#workers = Array.from({ length: this.threads - (here ? 1 : 0) }, () => new Tinypool(tiny));
    this.#here = here ? new TaskRunner() : undefined;
    const lane = (name: string, slots: number): Lane => ({ name, readyMs: slots > 0 ? 0 : Number.NaN, tasks: 0, states: 0, searchMs: 0, slots, busy: 0 });
    this.#lanes = [...this.#workers.map((_, i) => lane(`worker ${i + 1}`, 0)), ...(here ? [lane('this thread', 1)] : [])];
  }

  /** Per thread: when it was ready, and what it searched (all plans run so far). */
  get stats(): readonly ThreadStats[] {
    return this.#lanes.map((l) => ({ thread: l.name, readyMs: l.readyMs, tasks: l.tasks, states: l.states, searchMs: l.searchMs }));
  }

  /** Runs a plan to its end (or a stop) on the threads; other plans may run on the pool meanwhile. */
  run(ref: ModelRef, plan: SearchPlan, hooks: PoolOptions = {}): Promise<SearchResult> {
    this.#warm(ref);
    type Settled = { readonly result: SearchResult } | { readonly error: unknown };
    const done = new Promise<Settled>((resolve) => {
      const settle = (r: Settled): void => {
        const i = this.#runs.indexOf(run);
        if (i < 0) return;
        this.#runs.splice(i, 1);
        this.#forget(ref);
        resolve(r);
      };
      const visited = VisitedSet.sharedBuffer(Math.min(hooks.maxStates ?? SHARED_KEYS, SHARED_KEYS));
      const run: PlanRun = { ref, visited, plan, hooks, running: 0, failure: undefined, settle };
      this.#runs.push(run);
    });
    this.#pump();
    return held(
      done.then((r) => {
        if ('error' in r) throw r.error;
        return r.result;
      }),
    );
  }

  /** Gives every free slot work: the workers' first. */
  #pump(): void {
    for (let lane = 0; lane < this.#lanes.length; lane++) {
      const l = this.#lanes[lane]!;
      while (l.busy < l.slots) {
        const pick = this.#pick(lane);
        if (!pick) break;
        this.#start(lane, pick.run, pick.jobs);
      }
    }
    for (const run of this.#runs.slice()) this.#settleIfDone(run);
  }

  #stopping(run: PlanRun): boolean {
    const h = run.hooks;
    return run.failure !== undefined || (h.shouldStop?.() ?? false) || (h.maxStates !== undefined && run.plan.states >= h.maxStates);
  }

  /**
   * The jobs a free slot of `lane` takes: its own of the oldest plan that has some (at most
   * half of them while it has another slot, which then takes the rest), else one job found
   * elsewhere from the plan with most queued.
   */
  #pick(lane: number): { readonly run: PlanRun; readonly jobs: readonly SearchJob[] } | undefined {
    const slots = this.#lanes[lane]!.slots;
    // A take comes back empty when every job it reached had been entered by a batch meanwhile
    // (those are dropped as they are reached, so the queue it drew on is then empty): look again.
    for (let tries = 0; tries <= 2 * this.#runs.length; tries++) {
      let richest: PlanRun | undefined;
      let fresh: PlanRun | undefined;
      let jobs: readonly SearchJob[] | undefined;
      let from: PlanRun | undefined;
      for (const run of this.#runs) {
        if (this.#stopping(run)) continue;
        const own = run.plan.ownedBy(lane);
        if (own > 0) {
          from = run;
          jobs = run.plan.takeBatch(Math.min(TASK_JOBS, Math.ceil(own / slots)), lane);
          break;
        }
        if (fresh === undefined && run.plan.unowned > 0) fresh = run;
        if (run.plan.pending > (richest?.plan.pending ?? 0)) richest = run;
      }
      if (jobs === undefined) {
        // A job no thread found (a plan's first) costs no replay of another thread's prefix: taken before stealing.
        from = fresh ?? richest;
        if (!from) return undefined;
        jobs = from.plan.takeBatch(1, lane);
      }
      if (jobs.length > 0) return { run: from!, jobs };
    }
    return undefined;
  }


  #start(lane: number, run: PlanRun, jobs: readonly SearchJob[]): void {
    const l = this.#lanes[lane]!;
    l.busy++;
    run.running++;
    this.#task(lane, run, jobs)
      .then(
        async ({ out, searchMs }) => {
          l.busy--;
          l.tasks++;
          l.states += out.states;
          l.searchMs += searchMs;
          run.plan.complete(jobs, out, lane);
          this.#pump();
          await run.hooks.onJob?.(run.plan);
        },
        (e: unknown) => {
          l.busy--;
          run.plan.giveBack(jobs);
          throw e;
        },
      )
      .catch((e: unknown) => {
        run.failure ??= { error: e };
      })
      .finally(() => {
        run.running--;
        this.#pump();
      });
  }

  /** A plan with nothing running and nothing to hand out (or stopping) is done. */
  #settleIfDone(run: PlanRun): void {
    if (run.running > 0 || (run.plan.pending > 0 && !this.#stopping(run))) return;
    run.plan.stop();
    run.settle(run.failure ? { error: run.failure.error } : { result: run.plan.result() });
  }

  /** After a plan: each thread drops its model and states (a domain's starts run one after another on one pool). */
  #forget(ref: ModelRef): void {
    this.#here?.forget(ref);
    for (const w of this.#workers) w.run(ref, { name: 'forgetModel', filename: this.#filename(ref.module) }).catch(() => undefined);
  }

  async #task(lane: number, run: PlanRun, jobs: readonly SearchJob[]): Promise<{ readonly out: JobOutcome; readonly searchMs: number }> {
    const worker = this.#workers[lane];
    if (!worker) {
      await turn();
      // A quarter of a worker's budget: while this thread searches, a worker's results wait for it.
      const { outcome, searchMs } = await this.#here!.run(run.ref, jobs, run.plan.chunk, this.#taskStates / 4, run.visited);
      return { out: outcome, searchMs };
    }
    const task: WorkerTask = { ref: run.ref, jobs: jobs.map(packJob), chunk: run.plan.chunk, budget: this.#taskStates, visited: run.visited };
    const packed = (await worker.run(task, { name: 'runWorkerTask', filename: this.#filename(run.ref.module) })) as PackedOutcome;
    return { out: unpackOutcome(packed), searchMs: packed.searchMs ?? 0 };
  }

  /** Starts each worker's modules and model (the first plan's) and opens its lane when it is ready; one that fails opens too, and its first task fails the same way. */
  #warm(ref: ModelRef): void {
    if (this.#warming) return;
    this.#warming = true;
    this.#workers.forEach((w, lane) => {
      const open = (): void => {
        const l = this.#lanes[lane]!;
        l.readyMs = performance.now() - this.#born;
        l.slots = WORKER_SLOTS;
        this.#pump();
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
