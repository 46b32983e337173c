/**
 * A first-in first-out queue that stays O(1) a job when long. `Array.prototype.shift` is: an
 * array past ~16 K elements lives in V8's large-object space, where shift copies the whole
 * backing store (measured: 150 µs a shift at 20 K jobs, 1.3 ms at 300 K), and a search of
 * millions of states queues tens of thousands of subtree jobs. Taken slots are cleared and the
 * array is compacted once most of it is taken.
 */
export class JobQueue<T> {
  #items: (T | undefined)[];
  #head = 0;

  constructor(items: readonly T[] = []) {
    this.#items = items.slice();
  }

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  /** Puts an item back at the front. */
  unshift(item: T): void {
    if (this.#head > 0) this.#items[--this.#head] = item;
    else this.#items.unshift(item);
  }

  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    this.#compact();
    return item;
  }

  toArray(): T[] {
    return this.#items.slice(this.#head) as T[];
  }

  #compact(): void {
    if (this.#head >= 4096 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }
}
