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

/**
 * Runs that can no longer change, shared by the log and every mark taken after them. A run
 * changes only while it is the last one, so when the live runs are full, all of them are
 * frozen into a block at the moment a new run begins.
 */
interface FrozenRuns {
  readonly prev: FrozenRuns | null;
  /** Runs in this block and all blocks before it. */
  readonly runs: number;
  readonly codes: readonly number[];
  readonly counts: readonly number[];
  readonly strides: readonly number[];
}

/** Where a schedule log stood (for snapshots): the frozen runs, a copy of the live ones, and the choices recorded. */
export interface ScheduleMark {
  readonly frozen: FrozenRuns | null;
  readonly codes: readonly number[];
  readonly counts: readonly number[];
  readonly strides: readonly number[];
  readonly steps: number;
}

/** Live runs at most, before they are frozen: what a mark copies. */
const LIVE_RUNS = 16;

const EMPTY: ScheduleMark = { frozen: null, codes: [], counts: [], strides: [], steps: 0 };

/**
 * The recorded schedule, compressed: each entry is a code (see `encode`), a count and a
 * stride. Stride 0 repeats the code (one CPU stepping in a burst); stride 1 steps successive
 * CPUs modulo the CPU count, which is what a round-robin scheduler produces, so ten million
 * round-robin steps over thousands of CPUs cost a handful of entries, not ten million.
 *
 * A mark holds the log as it stood, not a position in it: cutting to any mark rebuilds that
 * log, including a mark taken on a branch a later cut removed (restore S1, run, restore S2).
 * Earlier runs are frozen in blocks the marks share, so a mark copies at most `LIVE_RUNS` runs.
 */
export class ScheduleLog {
  #codes: number[] = [];
  #counts: number[] = [];
  #strides: number[] = [];
  #frozen: FrozenRuns | null = null;
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
    return (this.#frozen?.runs ?? 0) + this.#codes.length;
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
    if (this.#codes.length === LIVE_RUNS) {
      this.#frozen = { prev: this.#frozen, runs: this.runs, codes: this.#codes, counts: this.#counts, strides: this.#strides };
      this.#codes = [];
      this.#counts = [];
      this.#strides = [];
    }
    this.#codes.push(code);
    this.#counts.push(count);
    this.#strides.push(0);
    this.#steps += count;
  }

  entries(): ScheduleEntry[] {
    this.#fold();
    const blocks: { codes: readonly number[]; counts: readonly number[]; strides: readonly number[] }[] = [];
    for (let f = this.#frozen; f !== null; f = f.prev) blocks.push(f);
    blocks.reverse().push({ codes: this.#codes, counts: this.#counts, strides: this.#strides });
    const out: ScheduleEntry[] = [];
    for (const { codes, counts, strides } of blocks) {
      for (let i = 0; i < codes.length; i++) {
        const code = codes[i]!;
        const n = counts[i]!;
        if (strides[i] === 1) {
          for (let k = 0; k < n; k++) out.push({ kind: 'step', cpu: (code + k) % this.cpus });
        } else {
          const e = decodeEntry(code);
          for (let k = 0; k < n; k++) out.push(e);
        }
      }
    }
    return out;
  }

  mark(): ScheduleMark {
    this.#fold();
    return { frozen: this.#frozen, codes: this.#codes.slice(), counts: this.#counts.slice(), strides: this.#strides.slice(), steps: this.#steps };
  }

  /** Makes the log what it was at a mark (a restore rewinds the recorded schedule too, or brings back one a cut removed). */
  cut(mark: ScheduleMark): void {
    this.#pending = 0;
    this.#frozen = mark.frozen;
    this.#codes = mark.codes.slice();
    this.#counts = mark.counts.slice();
    this.#strides = mark.strides.slice();
    this.#steps = mark.steps;
    this.#syncNext();
  }

  clear(): void {
    this.cut(EMPTY);
  }
}
