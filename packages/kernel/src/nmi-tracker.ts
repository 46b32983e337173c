/** What the tracker is told about one CPU's NMI deliveries and irets. */
export interface NmiDelivery {
  readonly cpu: number;
  readonly step: number;
  /** Address of the RIP/EIP slot of the frame the CPU pushed. */
  readonly frame: bigint;
  /** The interrupted context. */
  readonly rip: bigint;
  readonly rsp: bigint;
  readonly cs: number;
}

export interface IretEvent {
  readonly cpu: number;
  readonly step: number;
  /** Address of the RIP/EIP slot the iret popped. */
  readonly frame: bigint;
  /** Where it went. */
  readonly rip: bigint;
  readonly rsp: bigint;
  readonly cs: number;
}

export interface ActiveNmi extends NmiDelivery {
  /** Delivery number on the machine, from 1. */
  readonly id: number;
}

/** A return that did not go back where the NMI came from: the article's crash. */
export interface CorruptedReturn {
  readonly cpu: number;
  readonly step: number;
  readonly nmi: ActiveNmi;
  readonly landed: { readonly rip: bigint; readonly rsp: bigint; readonly cs: number };
  /** Deliveries whose frame went to the same address while this NMI was active. */
  readonly overwrittenBy: readonly number[];
}

/** One frame written where a still-active NMI's frame was (the IST reset). */
export interface FrameOverwrite {
  readonly cpu: number;
  readonly step: number;
  readonly victim: number;
  readonly by: number;
  readonly frame: bigint;
}

/**
 * Follows NMI deliveries and irets per CPU: which NMIs are active (delivered, not yet
 * back in the context they interrupted), how deep they nest, which delivery wrote its
 * frame over an active one's, and whether an NMI's final iret went somewhere other
 * than where the NMI came from (or a declared trampoline such as repeat_nmi).
 */
export class NmiTracker {
  readonly #offsets: readonly number[];
  readonly #trampolines: readonly bigint[];
  readonly #active: ActiveNmi[][] = [];
  readonly #overwrittenBy = new Map<number, number[]>();
  #count = 0;
  deepest = 0;
  readonly overwrites: FrameOverwrite[] = [];
  readonly corrupted: CorruptedReturn[] = [];
  /** NMIs that returned cleanly to the interrupted context. */
  completed = 0;

  readonly #checkRip: boolean;

  /**
   * `checkRip: false` for exceptions whose handler may move the return address (a kprobe
   * resumes in its out-of-line copy): then only CS and the stack pointer must match.
   */
  constructor(exitFrameOffsets: readonly number[], trampolines: readonly bigint[], options: { readonly checkRip?: boolean } = {}) {
    this.#offsets = exitFrameOffsets;
    this.#trampolines = trampolines;
    this.#checkRip = options.checkRip ?? true;
  }

  /** An independent copy: the scenario reducer changes a copy, never the state it was given. */
  clone(): NmiTracker {
    const t = new NmiTracker(this.#offsets, this.#trampolines, { checkRip: this.#checkRip });
    this.#active.forEach((stack, cpu) => {
      t.#active[cpu] = [...stack];
    });
    for (const [id, by] of this.#overwrittenBy) t.#overwrittenBy.set(id, [...by]);
    t.#count = this.#count;
    t.deepest = this.deepest;
    t.overwrites.push(...this.overwrites);
    t.corrupted.push(...this.corrupted);
    t.completed = this.completed;
    return t;
  }

  active(cpu: number): readonly ActiveNmi[] {
    return this.#active[cpu] ?? [];
  }

  delivered(d: NmiDelivery): ActiveNmi {
    const stack = (this.#active[d.cpu] ??= []);
    const rec: ActiveNmi = { ...d, id: ++this.#count };
    for (const other of stack) {
      if (other.frame === d.frame) {
        this.overwrites.push({ cpu: d.cpu, step: d.step, victim: other.id, by: rec.id, frame: d.frame });
        const list = this.#overwrittenBy.get(other.id) ?? [];
        list.push(rec.id);
        this.#overwrittenBy.set(other.id, list);
      }
    }
    stack.push(rec);
    this.deepest = Math.max(this.deepest, stack.length);
    return rec;
  }

  /** Returns the corrupted return if this iret was one. */
  iret(e: IretEvent): CorruptedReturn | undefined {
    const stack = this.#active[e.cpu];
    if (!stack) return undefined;
    for (let i = stack.length - 1; i >= 0; i--) {
      const rec = stack[i]!;
      if (!this.#offsets.some((off) => rec.frame + BigInt(off) === e.frame)) continue;
      if ((!this.#checkRip || e.rip === rec.rip) && e.rsp === rec.rsp && e.cs === rec.cs) {
        stack.length = i;
        this.completed++;
        return undefined;
      }
      if (this.#trampolines.includes(e.rip)) return undefined;
      const bad: CorruptedReturn = {
        cpu: e.cpu,
        step: e.step,
        nmi: rec,
        landed: { rip: e.rip, rsp: e.rsp, cs: e.cs },
        overwrittenBy: this.#overwrittenBy.get(rec.id) ?? [],
      };
      this.corrupted.push(bad);
      stack.length = i;
      return bad;
    }
    return undefined;
  }
}
