import { CpuError } from '../errors.js';
import type { Machine } from '../machine/machine.js';
import type { Choice, EventSource } from './model.js';

/** Applies one choice to the machine. */
export function applyChoice(m: Machine, c: Choice, sources: ReadonlyMap<string, EventSource>): void {
  if (c.kind === 'step') {
    m.step(c.cpu);
    return;
  }
  const s = sources.get(c.source);
  if (!s) throw new CpuError('KERNSIM_CPU_SCHEDULE', `schedule names event source ${c.source}; known: ${[...sources.keys()].join(', ') || 'none'}`);
  fire(m, s, c.cpu);
}

export function fire(m: Machine, s: EventSource, cpu: number): void {
  if (s.fire) s.fire(m, cpu);
  else if (s.kind === 'nmi') m.injectNmi(cpu);
  else if (s.kind === 'irq') m.injectIrq(cpu, s.vector ?? 0x20);
  else throw new CpuError('KERNSIM_CPU_BAD_ARGUMENT', `fault source ${s.name} needs a fire function`);
}

export function sourceMap(events: readonly EventSource[] = []): Map<string, EventSource> {
  const map = new Map<string, EventSource>();
  for (const s of events) {
    if (map.has(s.name)) throw new CpuError('KERNSIM_CPU_BAD_ARGUMENT', `two event sources named ${s.name}`);
    if (!Number.isInteger(s.budget) || s.budget < 0) throw new CpuError('KERNSIM_CPU_BAD_ARGUMENT', `event source ${s.name}: budget must be a non-negative integer, got ${s.budget}`);
    if (s.kind === 'fault' && (!s.enabled || !s.fire)) throw new CpuError('KERNSIM_CPU_BAD_ARGUMENT', `fault source ${s.name} needs enabled and fire`);
    map.set(s.name, s);
  }
  return map;
}

/** Replays a schedule from the machine's current state, choice by choice (a counterexample, a job's prefix). */
export function replaySchedule(m: Machine, schedule: readonly Choice[], events: readonly EventSource[] = []): void {
  const sources = sourceMap(events);
  for (const c of schedule) {
    if (!Number.isInteger(c.cpu) || c.cpu < 0 || c.cpu >= m.cpus.length) throw new CpuError('KERNSIM_CPU_SCHEDULE', `schedule names CPU ${c.cpu}; the machine has CPUs 0..${m.cpus.length - 1}`);
    applyChoice(m, c, sources);
  }
}

/** `step 0`, `nmi@1` …: a schedule as one line. */
export function formatSchedule(schedule: readonly Choice[]): string {
  const out: string[] = [];
  let run = 0;
  let last = '';
  const flush = (): void => {
    if (run > 0) out.push(run > 1 ? `${last}×${run}` : last);
  };
  for (const c of schedule) {
    const s = c.kind === 'step' ? `cpu${c.cpu}` : `${c.source}@cpu${c.cpu}`;
    if (s === last) run++;
    else {
      flush();
      last = s;
      run = 1;
    }
  }
  flush();
  return out.join(' ');
}
