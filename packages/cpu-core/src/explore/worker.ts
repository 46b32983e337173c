import { performance } from 'node:perf_hooks';
import type { Machine } from '../machine/machine.js';
import { runBatch } from './batch.js';
import { FrontierCache } from './frontier-cache.js';
import type { SearchOptions } from './model.js';
import type { JobOutcome, SearchJob } from './plan.js';
import { packOutcome, unpackJob } from './transport.js';
import { VisitedSet } from './visited-set.js';
import type { PackedJob, PackedOutcome } from './transport.js';

/** Where a worker finds the model: a module (file URL or package specifier), the export that builds it, and its parameters (JSON). */
export interface ModelRef {
  readonly module: string;
  readonly export: string;
  readonly params: unknown;
}

/** What a model factory returns: a machine at the search's start state and the search's options. */
export interface BuiltModel {
  readonly machine: Machine;
  readonly options: SearchOptions;
}

/** One round trip to a worker: a batch of jobs of one model, and how far to go below them (see `runBatch`). */
export interface WorkerTask {
  readonly ref: ModelRef;
  readonly jobs: readonly PackedJob[];
  readonly chunk: number;
  /** States to explore below the batch's jobs before handing the rest back. */
  readonly budget: number;
  /** The plan's visited table, shared by the pool's threads (see `VisitedSet.sharedBuffer`); without it the thread keeps its own. */
  readonly visited?: SharedArrayBuffer;
}

/** Modules bundled into this worker (see `sourceWorker`), by the name a `ModelRef` gives them. */
const provided = new Map<string, Record<string, unknown>>();

export function provideModule(name: string, mod: Record<string, unknown>): void {
  provided.set(name, mod);
}

/** Builds the model a reference names (a new machine each call). */
export async function buildModel(ref: ModelRef): Promise<BuiltModel> {
  const mod = provided.get(ref.module) ?? ((await import(ref.module)) as Record<string, unknown>);
  const f = mod[ref.export];
  if (typeof f !== 'function') throw new TypeError(`${ref.module} has no function export ${ref.export}`);
  return (f as (params: unknown) => BuiltModel | Promise<BuiltModel>)(ref.params);
}

interface ModelState {
  readonly model: Promise<BuiltModel>;
  /** The states this thread (or, shared, any thread) explored for the model: its later jobs skip them. Made at the first task. */
  visited: VisitedSet | undefined;
  /** The frontier nodes its jobs handed back, to start the ones it gets again without replaying their prefixes. */
  readonly cache: FrontierCache;
}

/** What one thread keeps between tasks, per model: its own machine, visited states and frontier. */
export class TaskRunner {
  readonly #models = new Map<string, ModelState>();

  #state(ref: ModelRef): ModelState {
    const key = JSON.stringify(ref);
    let s = this.#models.get(key);
    if (!s) {
      s = { model: buildModel(ref), visited: undefined, cache: new FrontierCache() };
      this.#models.set(key, s);
    }
    return s;
  }

  /** Drops what this thread keeps for a model (its plan ended): its machine, visited states and frontier. */
  forget(ref: ModelRef): void {
    this.#models.delete(JSON.stringify(ref));
  }

  /** Builds the model ahead of the first task (a worker starting while others search). */
  async warm(ref: ModelRef): Promise<void> {
    await this.#state(ref).model;
  }

  /** A batch of jobs of the model, and the subtrees below them up to `budget` states (see `runBatch`); and how long it searched. */
  async run(ref: ModelRef, jobs: readonly SearchJob[], chunk: number, budget: number, shared?: SharedArrayBuffer): Promise<{ readonly outcome: JobOutcome; readonly searchMs: number }> {
    const s = this.#state(ref);
    const { machine, options } = await s.model;
    s.visited ??= new VisitedSet(undefined, shared);
    const t0 = performance.now();
    const outcome = runBatch(machine, options, jobs, chunk, budget, s.visited, s.cache);
    return { outcome, searchMs: performance.now() - t0 };
  }
}

const here = new TaskRunner();

/** The pool's task: a batch of subtree jobs on this worker's copy of the model. */
export async function runWorkerTask(task: WorkerTask): Promise<PackedOutcome> {
  const { outcome, searchMs } = await here.run(task.ref, task.jobs.map(unpackJob), task.chunk, task.budget, task.visited);
  return { ...packOutcome(outcome), searchMs };
}

/** The pool's first task for a worker: load the modules and build the model while other threads search. */
export function warmWorker(ref: ModelRef): Promise<void> {
  return here.warm(ref);
}

/** The pool's last task of a plan for a worker: drop the plan's model and states. */
export function forgetModel(ref: ModelRef): void {
  here.forget(ref);
}
