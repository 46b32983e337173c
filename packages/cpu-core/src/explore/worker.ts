import type { Machine } from '../machine/machine.js';
import { FrontierCache } from './frontier-cache.js';
import { runJob } from './jobs.js';
import type { SearchOptions } from './model.js';
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

export interface WorkerTask {
  readonly ref: ModelRef;
  readonly job: PackedJob;
  readonly chunk: number;
}

const models = new Map<string, Promise<BuiltModel>>();
/** Each worker keeps the states it has explored per model: its later jobs skip them. */
const seen = new Map<string, VisitedSet>();
/** And the frontier nodes its jobs handed back, to start the ones it gets without replaying their prefixes. */
const caches = new Map<string, FrontierCache>();

/** Builds (once per worker) the model a reference names. */
export function loadModel(ref: ModelRef): Promise<BuiltModel> {
  const key = JSON.stringify(ref);
  let p = models.get(key);
  if (!p) {
    p = import(ref.module).then((mod: Record<string, unknown>) => {
      const f = mod[ref.export];
      if (typeof f !== 'function') throw new TypeError(`${ref.module} has no function export ${ref.export}`);
      return (f as (params: unknown) => BuiltModel | Promise<BuiltModel>)(ref.params);
    });
    models.set(key, p);
  }
  return p;
}

/** The pool's task: one subtree job on this worker's copy of the model. */
export async function runWorkerTask(task: WorkerTask): Promise<PackedOutcome> {
  const { machine, options } = await loadModel(task.ref);
  const key = JSON.stringify(task.ref);
  let visited = seen.get(key);
  if (!visited) {
    visited = new VisitedSet();
    seen.set(key, visited);
  }
  let cache = caches.get(key);
  if (!cache) {
    cache = new FrontierCache();
    caches.set(key, cache);
  }
  return packOutcome(runJob(machine, options, unpackJob(task.job), task.chunk, visited, cache));
}
