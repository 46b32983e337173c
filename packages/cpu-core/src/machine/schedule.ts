import { mulberry32Next, mulberry32Value } from '@kernsim/prng';
import { CpuError } from '../errors.js';
import { intIn, oneOf, show } from './validate.js';

/** One recorded choice: a CPU stepped, or an external NMI / interrupt arrived at a CPU. */
export type ScheduleEntry =
  | { readonly kind: 'step'; readonly cpu: number }
  | { readonly kind: 'nmi'; readonly cpu: number }
  | { readonly kind: 'irq'; readonly cpu: number; readonly vector: number };

/** Who picks the next CPU and when external events arrive. */
export type Scheduler =
  | {
      readonly kind: 'round-robin';
      /** Steps each CPU takes before the next one's turn (default 1). */
      readonly quantum?: number;
    }
  | {
      readonly kind: 'random';
      /** Per-step probability of an external NMI at a random CPU (default 0). */
      readonly nmiChance?: number;
      /** Per-step probability of an external interrupt `irqVector` at a random CPU (default 0). */
      readonly irqChance?: number;
      readonly irqVector?: number;
    }
  | { readonly kind: 'replay'; readonly schedule: readonly ScheduleEntry[] };

/** Refuses a scheduler the machine does not have, or one with out-of-range settings. */
export function checkScheduler(s: Scheduler): void {
  const kind = oneOf((s as { kind?: unknown } | null)?.kind, ['round-robin', 'random', 'replay'], 'scheduler kind');
  if (kind === 'random') {
    const r = s as Extract<Scheduler, { kind: 'random' }>;
    for (const [name, v] of [['nmiChance', r.nmiChance], ['irqChance', r.irqChance]] as const) {
      if (v !== undefined && (typeof v !== 'number' || !(v >= 0 && v <= 1))) throw new CpuError('KERNSIM_CPU_BAD_ARGUMENT', `random scheduler ${name} must be a probability from 0 to 1, got ${show(v)}`);
    }
    if (r.irqVector !== undefined) intIn(r.irqVector, 0, 255, 'random scheduler irqVector');
  } else if (kind === 'replay' && !Array.isArray((s as { schedule?: unknown }).schedule)) {
    throw new CpuError('KERNSIM_CPU_SCHEDULE', `replay scheduler needs a schedule array, got ${show((s as { schedule?: unknown }).schedule)}`);
  }
}

/** Compact encoding: n >= 0 steps CPU n; negative values are events (cpu * 512 + code, code 0 = NMI, 1 + v = IRQ v). */
export function encode(e: ScheduleEntry): number {
  if (e.kind === 'step') return e.cpu;
  const code = e.kind === 'nmi' ? 0 : 1 + e.vector;
  return -1 - (e.cpu * 512 + code);
}

export function decodeEntry(n: number): ScheduleEntry {
  if (n >= 0) return { kind: 'step', cpu: n };
  const x = -1 - n;
  const cpu = Math.floor(x / 512);
  const code = x % 512;
  return code === 0 ? { kind: 'nmi', cpu } : { kind: 'irq', cpu, vector: code - 1 };
}

export function checkEntry(e: ScheduleEntry, cpus: number): void {
  if (!Number.isInteger(e.cpu) || e.cpu < 0 || e.cpu >= cpus) throw new CpuError('KERNSIM_CPU_SCHEDULE', `schedule names CPU ${e.cpu}; the machine has CPUs 0..${cpus - 1}`);
  if (e.kind === 'irq' && (!Number.isInteger(e.vector) || e.vector < 0 || e.vector > 255)) throw new CpuError('KERNSIM_CPU_SCHEDULE', `interrupt vector must be 0..255, got ${e.vector}`);
}

/** One draw of @kernsim/prng's mulberry32, whose whole state is one 32-bit number (so snapshots can carry it). */
export function nextRandom(state: { rng: number }): number {
  state.rng = mulberry32Next(state.rng);
  return mulberry32Value(state.rng);
}

/** Where a schedule log stood (for snapshots): entries kept and the last entry's run. */
export interface ScheduleMark {
  readonly entries: number;
  readonly steps: number;
  readonly lastCount: number;
  readonly lastStride: number;
}

/**
 * The recorded schedule, compressed: each entry is a code (see `encode`), a count and a
 * stride. Stride 0 repeats the code (one CPU stepping in a burst); stride 1 steps successive
 * CPUs modulo the CPU count, which is what a round-robin scheduler produces, so ten million
 * round-robin steps over thousands of CPUs cost a handful of entries, not ten million.
 */
export class ScheduleLog {
  readonly #codes: number[] = [];
  readonly #counts: number[] = [];
  readonly #strides: number[] = [];
  #steps = 0;
  /**
   * The CPU whose step extends the last run (a stride-1 run's next CPU), or -1; and the steps
   * that extended it since the run's count was last written (`#fold` adds them). Round-robin at
   * quantum 1 records each step with one compare and two field writes; updating the run's array
   * slot and the total at every step cost a seventh of a step (README, *Performance*).
   */
  #next = -1;
  #pending = 0;
  #enabled = true;

  constructor(readonly cpus: number) {}

  get enabled(): boolean {
    return this.#enabled;
  }

  set enabled(on: boolean) {
    this.#fold();
    this.#enabled = on;
    this.#syncNext();
  }

  /** Choices recorded (steps and events), as `entries()` would list them. */
  get length(): number {
    return this.#steps + this.#pending;
  }

  /** Stored runs (the memory the log takes is proportional to this). */
  get runs(): number {
    return this.#codes.length;
  }

  /** One step of `cpu`. */
  step(cpu: number): void {
    if (cpu === this.#next) {
      this.#pending++;
      this.#next = cpu + 1 === this.cpus ? 0 : cpu + 1;
      return;
    }
    if (!this.#enabled) return;
    this.#fold();
    this.#stepSlow(cpu);
    this.#syncNext();
  }

  #fold(): void {
    if (this.#pending === 0) return;
    this.#counts[this.#counts.length - 1]! += this.#pending;
    this.#steps += this.#pending;
    this.#pending = 0;
  }

  #stepSlow(cpu: number): void {
    const last = this.#codes.length - 1;
    if (last >= 0) {
      const lc = this.#codes[last]!;
      if (lc >= 0) {
        const cnt = this.#counts[last]!;
        if (this.#strides[last] === 1) {
          if ((lc + cnt) % this.cpus === cpu) {
            this.#counts[last] = cnt + 1;
            this.#steps++;
            return;
          }
        } else if (lc === cpu) {
          this.#counts[last] = cnt + 1;
          this.#steps++;
          return;
        } else if (cnt === 1 && (lc + 1) % this.cpus === cpu) {
          this.#strides[last] = 1;
          this.#counts[last] = 2;
          this.#steps++;
          return;
        }
      }
    }
    this.#push(cpu, 1);
  }

  /** `count` repetitions of one code (a burst of steps of one CPU, or an event). */
  record(code: number, count: number): void {
    if (!this.#enabled || count <= 0) return;
    if (count === 1 && code >= 0) {
      this.step(code);
      return;
    }
    this.#fold();
    const last = this.#codes.length - 1;
    if (code >= 0 && last >= 0 && this.#strides[last] === 0 && this.#codes[last] === code) {
      this.#counts[last]! += count;
      this.#steps += count;
      return;
    }
    this.#push(code, count);
    this.#syncNext();
  }

  #syncNext(): void {
    const last = this.#codes.length - 1;
    this.#next = this.#enabled && last >= 0 && this.#strides[last] === 1 ? (this.#codes[last]! + this.#counts[last]!) % this.cpus : -1;
  }

  #push(code: number, count: number): void {
    this.#codes.push(code);
    this.#counts.push(count);
    this.#strides.push(0);
    this.#steps += count;
  }

  entries(): ScheduleEntry[] {
    this.#fold();
    const out: ScheduleEntry[] = [];
    for (let i = 0; i < this.#codes.length; i++) {
      const code = this.#codes[i]!;
      const n = this.#counts[i]!;
      if (this.#strides[i] === 1) {
        for (let k = 0; k < n; k++) out.push({ kind: 'step', cpu: (code + k) % this.cpus });
      } else {
        const e = decodeEntry(code);
        for (let k = 0; k < n; k++) out.push(e);
      }
    }
    return out;
  }

  mark(): ScheduleMark {
    this.#fold();
    const last = this.#codes.length - 1;
    return { entries: this.#codes.length, steps: this.#steps, lastCount: last >= 0 ? this.#counts[last]! : 0, lastStride: last >= 0 ? this.#strides[last]! : 0 };
  }

  /** Cuts the log back to a mark taken earlier (a restore rewinds the recorded schedule too). */
  cut(mark: ScheduleMark): void {
    this.#fold();
    const keep = Math.min(this.#codes.length, mark.entries);
    this.#codes.length = keep;
    this.#counts.length = keep;
    this.#strides.length = keep;
    if (keep > 0 && keep === mark.entries) {
      this.#counts[keep - 1] = mark.lastCount;
      this.#strides[keep - 1] = mark.lastStride;
      this.#steps = mark.steps;
    } else this.#steps = this.#counts.reduce((s, c) => s + c, 0);
    this.#syncNext();
  }

  clear(): void {
    this.cut({ entries: 0, steps: 0, lastCount: 0, lastStride: 0 });
  }
}
