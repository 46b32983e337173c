import { MemcgError } from './errors.js';
import { checkInt } from './validate.js';

/**
 * Mulberry32: a small seeded generator. Workloads take one of these, never Math.random,
 * so the same seed replays the same run bit for bit.
 */
export class Prng {
  private state: number;

  constructor(seed: number) {
    this.state = checkInt(seed, 'a seed', 0, 0xffffffff) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (!(n >= 1)) throw new MemcgError('KERNSIM_MEMCG_BAD_ARGUMENT', `expected a range of at least 1; got ${String(n)}`);
    return Math.floor(this.next() * n);
  }
}
