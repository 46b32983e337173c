import { CpuError } from '../errors.js';
import type { Machine } from '../machine/machine.js';
import type { Choice, Finding, SearchOptions } from './model.js';
import { Search } from './search.js';

/**
 * Replays a schedule with the search's monitors and invariants watching, and returns what they
 * found along it (a saved counterexample must reproduce its violation). The machine is left at
 * the schedule's end.
 */
export function checkSchedule(machine: Machine, options: SearchOptions, schedule: readonly Choice[]): Finding[] {
  const s = new Search(machine, options, false);
  let mon: readonly unknown[] = s.monitors.map((x) => x.init(machine));
  // The search's budgets: a path it ended because no event was left ends here too, and its final findings come out.
  const budgets = new Int32Array(s.events.length * s.ncpu);
  s.events.forEach((x, i) => budgets.fill(x.budget, i * s.ncpu, (i + 1) * s.ncpu));
  const out: Finding[] = [...s.checkState()];
  for (const c of schedule) {
    if (!Number.isInteger(c.cpu) || c.cpu < 0 || c.cpu >= s.ncpu) throw new CpuError('KERNSIM_CPU_SCHEDULE', `schedule names CPU ${c.cpu}; the machine has CPUs 0..${s.ncpu - 1}`);
    if (c.kind === 'event' && !s.sources.has(c.source)) throw new CpuError('KERNSIM_CPU_SCHEDULE', `schedule names event source ${c.source}; known: ${[...s.sources.keys()].join(', ') || 'none'}`);
    mon = s.apply(c, mon, budgets);
    out.push(...s.findings, ...s.checkState());
  }
  const done = options.done?.(machine, mon) ?? false;
  if (done || s.choices(budgets).length === 0) {
    if (!done && options.done) out.push({ invariant: 'stuck', detail: 'no CPU can run and the scenario is not done' });
    s.monitors.forEach((x, i) => out.push(...(x.final?.(machine, mon[i]) ?? [])));
  }
  return out;
}
