import { PrngError } from './errors.js';

/** mulberry32's Weyl-sequence increment: the state walks all 2^32 values before repeating. */
const INCREMENT = 0x6d2b79f5;

/** Largest `int(n)` range: beyond 2^32 a 32-bit draw cannot reach every value. */
export const MAX_RANGE = 2 ** 32;

/**
 * The state after one step. The state is kept as a signed 32-bit integer (`| 0`) so a
 * holder can store it in one number field (cpu-core's machine snapshots do) and compare it
 * exactly; `mulberry32Value` reads it the same whether the caller keeps it signed or not.
 */
export function mulberry32Next(state: number): number {
  return (state + INCREMENT) | 0;
}

/** The uniform draw in [0, 1) that a (stepped) state yields: mulberry32's output mix. */
export function mulberry32Value(state: number): number {
  let t = state | 0;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

/**
 * A seeded generator over `mulberry32Next`/`mulberry32Value`. Code that needs randomness
 * takes one of these (never Math.random), so the same seed replays the same run bit for bit.
 */
export class Prng {
  #state: number;

  /** `seed` is an integer in [0, 2^32 - 1]; anything else throws `KERNSIM_PRNG_BAD_SEED`. */
  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new PrngError('KERNSIM_PRNG_BAD_SEED', `expected a seed that is an integer in [0, 4294967295]; got ${String(seed)}`);
    }
    this.#state = seed | 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.#state = mulberry32Next(this.#state);
    return mulberry32Value(this.#state);
  }

  /** Uniform integer in [0, n); `n` is an integer in [1, 2^32], else `KERNSIM_PRNG_BAD_RANGE`. */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > MAX_RANGE) {
      throw new PrngError('KERNSIM_PRNG_BAD_RANGE', `expected a range that is an integer in [1, 2^32]; got ${String(n)}`);
    }
    return Math.floor(this.next() * n);
  }
}
