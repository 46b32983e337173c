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

  /** Removes and returns the first of the next `window` items that `accept` takes, keeping the others' order. */
  takeFirst(accept: (item: T) => boolean, window: number): T | undefined {
    const items = this.#items;
    const end = Math.min(items.length, this.#head + window);
    for (let i = this.#head; i < end; i++) {
      const item = items[i] as T;
      if (!accept(item)) continue;
      // Close the gap from the front: at most `window` moves.
      for (let k = i; k > this.#head; k--) items[k] = items[k - 1];
      items[this.#head++] = undefined;
      this.#compact();
      return item;
    }
    return undefined;
  }

  /** Removes and returns the first `max` items `accept` takes, keeping the others' order: one pass over the queue (a pool's thread looks for the jobs it found). */
  takeAll(accept: (item: T) => boolean, max: number): T[] {
    const out: T[] = [];
    if (max < 1) return out;
    const items = this.#items;
    let kept = this.#head;
    for (let i = this.#head; i < items.length; i++) {
      const item = items[i] as T;
      if (!accept(item)) {
        items[kept++] = item;
        continue;
      }
      out.push(item);
      if (out.length === max) {
        items.copyWithin(kept, i + 1);
        items.length -= i + 1 - kept;
        return out;
      }
    }
    items.length = kept;
    return out;
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
