/**
 * The search's visited states as 64-bit keys in one typed array (open addressing, linear
 * probing): 8 bytes a slot, at most 3/4 full, so 11–21 bytes a state and no object per state.
 * A `Set<string>` of text keys cost ~100 bytes a state and most of the search's garbage.
 * Keys are digests (the machine's 64-bit hash mixed with the depth, budgets and monitors), as
 * the text keys were. A collision makes a state count as visited, so its subtree is skipped:
 * if the digests behave as random 64-bit values that happens with probability ~n²/2⁶⁵
 * (3·10⁻⁶ at 10⁷ states), and the key (0, 0) is stored as (0, 1) (0 marks an empty slot).
 *
 * A set made on a `SharedArrayBuffer` (`VisitedSet.sharedBuffer`) is one table for every
 * thread of a pool that runs the plan: a state one thread explored, the others skip. Its size
 * is fixed (a shared table cannot be moved while others probe it); past about 3/4 full (each
 * thread adds its keys to the fill count up to 256 at a time: one word all threads write is a cache
 * line that moves between cores), each thread adds to a set of its own and still finds the
 * shared keys. A slot is claimed by a
 * compare-and-swap of its first word, then its second is written; a thread that meets a claimed
 * slot whose second word is still 0 waits for it. So neither word of a shared key may be 0:
 * (a, 0) is stored as (a, 1) and (0, b) as (1, b), which merges those keys with others in
 * pairs (a few more collisions, at the same ~n²/2⁶⁵ order).
 */
export class VisitedSet {
  #slots: Int32Array;
  #mask: number;
  #size = 0;
  /** Slots filled since `mark` (undefined: not marking), and whether the table grew since. */
  #journal: number[] | undefined;
  #grew = false;
  /** Shared: the table's fill count (word 0, all threads), and this thread's own set once the table is 3/4 full. */
  readonly #count: Int32Array | undefined;
  #overflow: VisitedSet | undefined;
  /** Keys this thread added to the shared table and has not yet counted in its fill count, which it adds to every `#batch` keys (256, fewer in a small table: each thread may be that many short). */
  #unpublished = 0;
  readonly #batch: number = 0;

  /** A table of `capacity` keys at least (the next power of two), or the shared table in `shared`. */
  constructor(capacity = 1 << 14, shared?: SharedArrayBuffer) {
    if (shared) {
      this.#count = new Int32Array(shared, 0, 2);
      this.#slots = new Int32Array(shared, 8);
      this.#mask = this.#slots.length / 2 - 1;
      this.#batch = Math.min(256, (this.#mask + 1) >> 6);
      return;
    }
    let n = 1 << 10;
    while (n < capacity) n *= 2;
    this.#slots = new Int32Array(2 * n);
    this.#mask = n - 1;
  }

  /** The memory of a table for `capacity` keys (a power of two of slots, at least 1024, holding 3/4 of them) to share between threads. */
  static sharedBuffer(capacity: number): SharedArrayBuffer {
    let n = 1 << 10;
    while (n * 3 < capacity * 4) n *= 2;
    return new SharedArrayBuffer(8 + 8 * n);
  }

  /** Whether the table is shared between threads (a run cut short cannot take its keys out of it again). */
  get shared(): boolean {
    return this.#count !== undefined;
  }

  /** Keys held (of a shared table: by all threads, give or take 256 a thread, plus this thread's own past its fill). */
  get size(): number {
    return this.#count ? Atomics.load(this.#count, 0) + this.#unpublished + (this.#overflow?.size ?? 0) : this.#size;
  }

  /** Bytes the table takes (its one typed array). */
  get bytes(): number {
    return this.#slots.byteLength;
  }

  /** Adds key (a, b); false when it was already there. The pair (0, 0) marks an empty slot, so it is stored as (0, 1). */
  add(a: number, b: number): boolean {
    if (this.#count) return this.#addShared(a | 0 || 1, b | 0 || 1);
    a |= 0;
    b = a === 0 && b === 0 ? 1 : b | 0;
    const i = this.#slot(a, b);
    const slots = this.#slots;
    if (slots[i] === a && slots[i + 1] === b) return false;
    slots[i] = a;
    slots[i + 1] = b;
    this.#journal?.push(a, b);
    if (++this.#size * 4 > (this.#mask + 1) * 3) this.#grow();
    return true;
  }

  has(a: number, b: number): boolean {
    if (this.#count) {
      a = a | 0 || 1;
      b = b | 0 || 1;
      return this.#probe(a, b, false) || (this.#overflow?.has(a, b) ?? false);
    }
    a |= 0;
    b = a === 0 && b === 0 ? 1 : b | 0;
    const i = this.#slot(a, b);
    return this.#slots[i] === a && this.#slots[i + 1] === b;
  }

  #addShared(a: number, b: number): boolean {
    if (this.#overflow) return !this.#probe(a, b, false) && this.#overflow.add(a, b);
    if (this.#probe(a, b, true)) return false;
    // The fill count is one word all threads write: counted here, added to it every `#batch` keys.
    if (++this.#unpublished === this.#batch) {
      const n = Atomics.add(this.#count!, 0, this.#batch) + this.#batch;
      this.#unpublished = 0;
      if (n * 4 >= (this.#mask + 1) * 3) this.#overflow = new VisitedSet();
    }
    return true;
  }

  /**
   * Whether shared key (a, b), neither word 0, is in the table; with `claim`, adds it when not.
   * Plain reads (an aligned 32-bit read does not tear): a stale 0 only sends it to the
   * compare-and-swap, which sees the word as it is.
   */
  #probe(a: number, b: number, claim: boolean): boolean {
    const slots = this.#slots;
    const mask = this.#mask;
    for (let i = (a ^ Math.imul(b, 0x9e3779b1)) & mask; ; i = (i + 1) & mask) {
      let x = slots[2 * i]!;
      if (x === 0) {
        if (!claim) return false;
        x = Atomics.compareExchange(slots, 2 * i, 0, a);
        if (x === 0) {
          Atomics.store(slots, 2 * i + 1, b);
          return false;
        }
      }
      if (x !== a) continue;
      let y = slots[2 * i + 1]!;
      // Claimed by another thread that is about to write the second word.
      while (y === 0) y = Atomics.load(slots, 2 * i + 1);
      if (y === b) return true;
    }
  }

  /** Where key (a, b) is, or the empty slot where it would go (an index into the word array). */
  #slot(a: number, b: number): number {
    const slots = this.#slots;
    const mask = this.#mask;
    for (let i = (a ^ Math.imul(b, 0x9e3779b1)) & mask; ; i = (i + 1) & mask) {
      const x = slots[2 * i]!;
      const y = slots[2 * i + 1]!;
      if ((x === a && y === b) || (x === 0 && y === 0)) return 2 * i;
    }
  }

  /**
   * Starts noting the keys added from now on, so that `rollback` can take them out again: a run
   * cut short (a job whose reduction is withdrawn) added states whose subtrees it did not finish,
   * and the run that replaces it must not take them as explored.
   */
  mark(): void {
    this.#journal = [];
    this.#grew = false;
  }

  /** Stops noting keys (the run since `mark` finished: its keys stay). */
  commit(): void {
    this.#journal = undefined;
  }

  /** Takes out every key added since `mark`, leaving the table as it was then. */
  rollback(): void {
    const j = this.#journal;
    this.#journal = undefined;
    if (!j || j.length === 0) return;
    if (!this.#grew) {
      // Linear probing: emptying the added slots latest first gives back the table as it was.
      for (let k = j.length - 2; k >= 0; k -= 2) {
        const i = this.#slot(j[k]!, j[k + 1]!);
        this.#slots[i] = 0;
        this.#slots[i + 1] = 0;
      }
      this.#size -= j.length / 2;
      return;
    }
    const drop = new VisitedSet(j.length);
    for (let k = 0; k < j.length; k += 2) drop.add(j[k]!, j[k + 1]!);
    const old = this.#slots;
    this.#slots = new Int32Array(old.length);
    this.#size = 0;
    for (let i = 0; i < old.length; i += 2) if ((old[i] !== 0 || old[i + 1] !== 0) && !drop.has(old[i]!, old[i + 1]!)) this.add(old[i]!, old[i + 1]!);
  }

  #grow(): void {
    this.#grew = true;
    const journal = this.#journal;
    this.#journal = undefined;
    const old = this.#slots;
    this.#slots = new Int32Array(old.length * 2);
    this.#mask = old.length - 1;
    this.#size = 0;
    for (let i = 0; i < old.length; i += 2) if (old[i] !== 0 || old[i + 1] !== 0) this.add(old[i]!, old[i + 1]!);
    this.#journal = journal;
  }
}

/**
 * Builds a state's 64-bit key from words: `begin` with the machine's hash, `mix` each of the
 * depth, the budgets and the monitors' digest, then read `a` and `b`. Two lanes with different
 * multipliers, each a word at a time (FNV/Murmur steps), finished with a Murmur3 avalanche.
 */
export class KeyBuilder {
  a = 0;
  b = 0;

  begin(h1: number, h2: number): void {
    this.a = h1 | 0;
    this.b = h2 | 0;
  }

  mix(w: number): void {
    this.a = Math.imul(this.a ^ w, 0x01000193);
    this.b = Math.imul(this.b ^ w, 0x5bd1e995) ^ (this.a >>> 15);
  }

  finish(): void {
    this.a = fmix(this.a ^ Math.imul(this.b, 0x27d4eb2d));
    this.b = fmix(this.b ^ this.a);
  }

  /** The key as text (job keys in a plan and its checkpoint). */
  text(): string {
    return (this.a >>> 0).toString(36) + '.' + (this.b >>> 0).toString(36);
  }
}

function fmix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}

/** 64 bits of a string in `out` (two FNV-1a lanes): a monitor's key, as strong as the machine's 64-bit hash. */
export function digestText(text: string, out: Int32Array): void {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 15);
  }
  out[0] = a;
  out[1] = b;
}
