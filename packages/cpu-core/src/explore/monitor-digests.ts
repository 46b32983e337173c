import type { Monitor } from './model.js';
import { digestText } from './visited-set.js';

/**
 * The monitors' keys digested to 64 bits, for the visited key. Monitor keys change only when
 * something happens (an NMI, an iret), so the digest of the last few keys is kept: a monitor
 * that returns the same string object for an unchanged state costs one lookup. A monitor with
 * `digest` gives its 64 bits directly.
 */
export class MonitorDigests {
  readonly #monitors: readonly Monitor[];
  readonly #digests = new Map<string, readonly [number, number]>();
  readonly #words = new Int32Array(2);
  #lastMonitors: readonly unknown[] | undefined;
  #lastDigest: readonly [number, number] = [0, 0];

  constructor(monitors: readonly Monitor[]) {
    this.#monitors = monitors;
  }

  /** Forgets the last monitors' array (a new run). */
  reset(): void {
    this.#lastMonitors = undefined;
  }

  of(monitors: readonly unknown[]): readonly [number, number] {
    // Along a path the monitors' array is kept while no state changes: the last digest holds.
    if (monitors === this.#lastMonitors) return this.#lastDigest;
    const all = this.#monitors;
    const only = all.length === 1 ? all[0]! : undefined;
    const w = this.#words;
    let d: readonly [number, number] | undefined;
    if (only?.digest) {
      only.digest(monitors[0], w);
      d = [w[0]!, w[1]!];
    } else {
      const text = only ? only.key(monitors[0]) : all.map((x, i) => x.key(monitors[i])).join('|');
      d = this.#digests.get(text);
      if (d === undefined) {
        if (this.#digests.size >= 4096) this.#digests.clear();
        digestText(text, w);
        d = [w[0]!, w[1]!];
        this.#digests.set(text, d);
      }
    }
    this.#lastMonitors = monitors;
    this.#lastDigest = d;
    return d;
  }
}
