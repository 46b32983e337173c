import { describe, expect, it } from 'vitest';
import { buildNmiDoublingModel } from '../testing/counter-model.js';
import { checkSchedule } from './check-schedule.js';
import { search } from './search-api.js';

describe('checkSchedule', () => {
  it('ends a schedule where the search did when the events’ budgets ran out: the final findings replay', () => {
    const { machine, options } = buildNmiDoublingModel();
    const home = machine.snapshot();
    const [v] = search(machine, options).violations;
    machine.restore(home);
    expect(checkSchedule(machine, options, v!.schedule).map((f) => f.invariant)).toEqual([v!.invariant]);
    // One choice short, an NMI is still to come: no final finding.
    machine.restore(home);
    expect(checkSchedule(machine, options, v!.schedule.slice(0, -1))).toEqual([]);
  });

  it('reports a stuck end as the search does', () => {
    const { machine, options } = buildNmiDoublingModel();
    const stuckOptions = { ...options, monitors: [], done: () => false };
    const home = machine.snapshot();
    const r = search(machine, stuckOptions);
    const stuck = r.violations.find((v) => v.invariant === 'stuck');
    expect(stuck).toBeDefined();
    machine.restore(home);
    expect(checkSchedule(machine, stuckOptions, stuck!.schedule).map((f) => f.invariant)).toContain('stuck');
  });
});
