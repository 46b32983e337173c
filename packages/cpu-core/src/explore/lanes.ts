/**
 * A pool's lanes (a worker, or this thread), each with a number of slots: the tasks it may hold
 * at once (a worker holds two, so it starts the next as soon as it posts a result, whatever
 * this thread is busy with). A lane not ready yet has no slots until it is opened. Tasks wait
 * for a slot first come first served: a freed slot goes straight to the first waiter, for were
 * it only marked free and the waiter woken, a task arriving before the waiter ran (its wake-up
 * is a later microtask) would take it and the waiter would queue again behind later tasks.
 */
export class Lanes {
  readonly #slots: number[];
  readonly #busy: number[];
  readonly #waiting: ((lane: number) => void)[] = [];

  /** `slots[i]` tasks at once on lane i (0: not ready); the first lanes are preferred. */
  constructor(slots: readonly number[]) {
    this.#slots = slots.slice();
    this.#busy = slots.map(() => 0);
  }

  /** The lane the next `acquire()` without an owner gets, or -1 when all are busy. */
  get free(): number {
    return this.#busy.findIndex((b, i) => b < this.#slots[i]!);
  }

  /** A slot on lane `own` if it has one free, else on the first lane with one; waits for one when all are busy. */
  acquire(own?: number): Promise<number> {
    const lane = own !== undefined && this.#busy[own]! < this.#slots[own]! ? own : this.free;
    if (lane < 0) return new Promise((take) => this.#waiting.push(take));
    this.#busy[lane]!++;
    return Promise.resolve(lane);
  }

  /** Hands the slot to the first waiter, or frees it. */
  release(lane: number): void {
    const next = this.#waiting.shift();
    if (next) next(lane);
    else this.#busy[lane]!--;
  }

  /** Gives a lane `slots` slots (it is ready), serving waiters first. */
  open(lane: number, slots: number): void {
    this.#slots[lane] = slots;
    while (this.#busy[lane]! < slots && this.#waiting.length > 0) {
      this.#busy[lane]!++;
      this.#waiting.shift()!(lane);
    }
  }
}
