import type { CpuState } from './cpu.js';
import { burst, runnable, step } from './exec.js';
import type { RunResult } from './machine-options.js';
import { checkEntry, nextRandom } from './schedule.js';
import type { ScheduleEntry, ScheduleLog, Scheduler } from './schedule.js';

/** What the random and replay schedulers drive: the machine's recorded actions. */
export interface ScheduledMachine {
  step(cpu: number): void;
  injectNmi(cpu: number): void;
  injectIrq(cpu: number, vector: number): void;
}

/**
 * Replays recorded choices: events are injected as they come, each step entry is one step.
 * Without an `until` predicate, consecutive steps of one CPU run as one burst (`burst` takes
 * exactly the steps that many `step` calls take, and runs hot code as blocks).
 */
export function runReplay(m: ScheduledMachine, cpus: readonly CpuState[], log: ScheduleLog, schedule: readonly ScheduleEntry[], max: number, until: (() => boolean) | undefined): RunResult {
  let pos = 0;
  for (let s = 0; s < max; ) {
    if (until?.()) return { steps: s, reason: 'until' };
    let e: ScheduleEntry | undefined;
    for (;;) {
      e = schedule[pos++];
      if (e === undefined) return { steps: s, reason: 'schedule-end' };
      checkEntry(e, cpus.length);
      if (e.kind === 'step') break;
      if (e.kind === 'nmi') m.injectNmi(e.cpu);
      else m.injectIrq(e.cpu, e.vector);
    }
    const cpu = e.cpu;
    let k = 1;
    if (until === undefined) {
      for (let next = schedule[pos]; s + k < max && next?.kind === 'step' && next.cpu === cpu; next = schedule[pos]) {
        pos++;
        k++;
      }
    }
    if (k === 1) m.step(cpu);
    else stepMany(cpus[cpu]!, cpu, log, k);
    s += k;
  }
  return { steps: max, reason: 'steps' };
}

/** `k` recorded steps of one CPU: a burst while it can progress, single steps for the rest (a halted CPU's idle steps). */
function stepMany(c: CpuState, cpu: number, log: ScheduleLog, k: number): void {
  const done = burst(c, k);
  log.record(cpu, done);
  for (let d = done; d < k; d++) {
    log.step(cpu);
    step(c);
  }
}

/** The random scheduler: external events by chance, then one step of a runnable CPU picked with the seeded generator. */
export function runRandom(
  m: ScheduledMachine,
  cpus: readonly CpuState[],
  log: ScheduleLog,
  rng: { rng: number },
  sched: Extract<Scheduler, { kind: 'random' }>,
  max: number,
  until: (() => boolean) | undefined,
): RunResult {
  const n = cpus.length;
  for (let s = 0; s < max; s++) {
    if (until?.()) return { steps: s, reason: 'until' };
    if (sched.nmiChance && nextRandom(rng) < sched.nmiChance) m.injectNmi(Math.floor(nextRandom(rng) * n));
    if (sched.irqChance && nextRandom(rng) < sched.irqChance) m.injectIrq(Math.floor(nextRandom(rng) * n), sched.irqVector ?? 0x20);
    let count = 0;
    for (const c of cpus) if (runnable(c)) count++;
    if (count === 0) return { steps: s, reason: 'idle' };
    let k = Math.floor(nextRandom(rng) * count);
    for (const c of cpus) {
      if (runnable(c) && k-- === 0) {
        log.step(c.id);
        step(c);
        break;
      }
    }
  }
  return { steps: max, reason: 'steps' };
}
