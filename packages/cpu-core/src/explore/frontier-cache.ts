import type { Snapshot } from '../machine/machine.js';
import { sameChoice } from './model.js';
import type { Choice } from './model.js';

/**
 * A node the search handed back as a job, as the thread that found it left it: its budgets and
 * monitors' states, and how to bring the machine there without the monitors: restore `anchor`
 * (a snapshot the search took on the node's path, at depth `anchorDepth`; none: the search's
 * start state) and replay the prefix's choices from that depth on.
 */
export interface FrontierState {
  readonly prefix: readonly Choice[];
  readonly anchor: Snapshot | undefined;
  readonly anchorDepth: number;
  readonly budgets: Int32Array;
  readonly monitors: readonly unknown[];
}

/**
 * Frontier nodes kept by the thread (or worker) that found them, by state key: a job it runs
 * later starts from its node's anchor instead of replaying its whole prefix from the search's
 * start with the monitors watching (a job 800 levels deep replays 800 choices).
 *
 * Jobs run about in the order they were found, and a search of millions of states queues tens
 * of thousands of them. Snapshots are what costs memory (the frames the path wrote), so at most
 * `capacity` distinct anchors are held; a node found while that many are held keeps only its
 * budgets and monitors (a few hundred bytes) and replays its prefix from the start state, machine
 * only. Keeping the old anchors and giving the new nodes none is the best a full cache can do
 * when jobs are taken first in, first out (the newest is needed last). Nodes found in one worker
 * and run in another are never taken here: past `16 × capacity` nodes the oldest go.
 */
export class FrontierCache {
  readonly #map = new Map<string, FrontierState>();
  /** Nodes holding each anchor. */
  readonly #anchors = new Map<Snapshot, number>();

  constructor(readonly capacity = 4096) {}

  get size(): number {
    return this.#map.size;
  }

  /** Distinct snapshots held. */
  get anchors(): number {
    return this.#anchors.size;
  }

  /** Keeps a node unless one with this key is kept (the plan keeps the first, too). */
  keep(key: string, state: FrontierState): void {
    if (this.#map.has(key)) return;
    if (this.#map.size >= 16 * this.capacity) this.#drop(this.#map.keys().next().value!);
    const a = state.anchor;
    let kept = state;
    if (a !== undefined) {
      const n = this.#anchors.get(a);
      if (n !== undefined) this.#anchors.set(a, n + 1);
      else if (this.#anchors.size < this.capacity) this.#anchors.set(a, 1);
      else kept = { ...state, anchor: undefined, anchorDepth: 0 };
    }
    this.#map.set(key, kept);
  }

  /** The kept start of a job, removed from the cache; undefined unless it was found along exactly this prefix. */
  take(key: string, prefix: readonly Choice[]): FrontierState | undefined {
    const s = this.#drop(key);
    return s && samePrefix(s.prefix, prefix) ? s : undefined;
  }

  #drop(key: string): FrontierState | undefined {
    const s = this.#map.get(key);
    if (!s) return undefined;
    this.#map.delete(key);
    const a = s.anchor;
    if (a !== undefined) {
      const n = this.#anchors.get(a)!;
      if (n > 1) this.#anchors.set(a, n - 1);
      else this.#anchors.delete(a);
    }
    return s;
  }
}

function samePrefix(a: readonly Choice[], b: readonly Choice[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!sameChoice(a[i]!, b[i]!)) return false;
  return true;
}
