/**
 * Which of a pool's workers are busy, and the jobs waiting for one, first come first served. A
 * freed lane goes straight to the first waiter: were it only marked free and the waiter woken,
 * a job arriving before the waiter ran (its wake-up is a later microtask) would take it and
 * the waiter would queue again at the back, behind later jobs.
 */
export class Lanes {
  readonly #busy: boolean[];
  readonly #waiting: ((lane: number) => void)[] = [];

  constructor(count: number) {
    this.#busy = Array.from({ length: count }, () => false);
  }

  /** The first free lane, or -1 when all are busy. */
  get free(): number {
    return this.#busy.indexOf(false);
  }

  /** A free lane, `own` if it is free; waits for one when all are busy. */
  acquire(own?: number): Promise<number> {
    const lane = own !== undefined && this.#busy[own] === false ? own : this.free;
    if (lane < 0) return new Promise((take) => this.#waiting.push(take));
    this.#busy[lane] = true;
    return Promise.resolve(lane);
  }

  /** Hands the lane to the first waiter, or marks it free. */
  release(lane: number): void {
    const next = this.#waiting.shift();
    if (next) next(lane);
    else this.#busy[lane] = false;
  }
}
