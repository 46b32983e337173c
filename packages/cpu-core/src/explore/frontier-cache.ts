import type { Snapshot } from '../machine/machine.js';
import { sameChoice } from './model.js';
import type { Choice } from './model.js';

/** A node the search handed back as a job, as the thread that found it left it. */
export interface FrontierState {
  readonly prefix: readonly Choice[];
  readonly snapshot: Snapshot;
  readonly budgets: Int32Array;
  readonly monitors: readonly unknown[];
}

/**
 * Frontier nodes kept by the thread (or worker) that found them, by state key: a job it runs
 * later restores its start instead of replaying its prefix from the search's start (a job 800
 * levels deep replays 800 choices, monitors included). Snapshots share unchanged frames, so an
 * entry costs the frames its path wrote; the cache is bounded and a job whose node is not kept
 * (evicted, found by another worker, or found along another prefix) replays as before.
 */
export class FrontierCache {
  readonly #map = new Map<string, FrontierState>();

  constructor(readonly capacity = 4096) {}

  get size(): number {
    return this.#map.size;
  }

  /**
   * Keeps a node unless one with this key is kept (the plan keeps the first, too). When full,
   * the oldest goes: jobs are taken about in the order they were found, so it is the likeliest
   * to have run elsewhere (another worker took it) or to be a duplicate the plan dropped.
   */
  keep(key: string, state: FrontierState): void {
    if (this.#map.has(key)) return;
    if (this.#map.size >= this.capacity) this.#map.delete(this.#map.keys().next().value!);
    this.#map.set(key, state);
  }

  /** The kept start of a job, removed from the cache; undefined unless it was found along exactly this prefix. */
  take(key: string, prefix: readonly Choice[]): FrontierState | undefined {
    const s = this.#map.get(key);
    if (!s) return undefined;
    this.#map.delete(key);
    return samePrefix(s.prefix, prefix) ? s : undefined;
  }
}

function samePrefix(a: readonly Choice[], b: readonly Choice[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!sameChoice(a[i]!, b[i]!)) return false;
  return true;
}
