import { CpuError } from '../errors.js';

/** One recorded choice: a CPU stepped, or an external NMI / interrupt arrived at a CPU. */
export type ScheduleEntry =
  | { readonly kind: 'step'; readonly cpu: number }
  | { readonly kind: 'nmi'; readonly cpu: number }
  | { readonly kind: 'irq'; readonly cpu: number; readonly vector: number };

/** Who picks the next CPU and when external events arrive. */
export type Scheduler =
  | { readonly kind: 'round-robin' }
  | {
      readonly kind: 'random';
      /** Per-step probability of an external NMI at a random CPU (default 0). */
      readonly nmiChance?: number;
      /** Per-step probability of an external interrupt `irqVector` at a random CPU (default 0). */
      readonly irqChance?: number;
      readonly irqVector?: number;
    }
  | { readonly kind: 'replay'; readonly schedule: readonly ScheduleEntry[] };

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

/** mulberry32: a small seeded PRNG whose whole state is one 32-bit number (so snapshots can carry it). */
export function nextRandom(state: { rng: number }): number {
  state.rng = (state.rng + 0x6d2b79f5) | 0;
  let t = state.rng;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
