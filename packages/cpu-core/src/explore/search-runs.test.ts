import { describe, expect, it } from 'vitest';
import { buildNmiDoublingModel } from '../testing/counter-model.js';
import { checkSchedule } from './check-schedule.js';
import { searchInJobs } from './jobs.js';
import { SearchPlan } from './plan.js';
import { search } from './search-api.js';

/** The final RBX of every placement of the doubling model's two NMIs. */
const EVERY_OUTCOME = ['rbx 2', 'rbx 3', 'rbx 4', 'rbx 5', 'rbx 6', 'rbx 8'];

describe('runs of one-choice nodes whose choice is an event', () => {
  it('take the event from the run’s own budgets: every placement of the NMIs is still searched, and replays', () => {
    for (const keyEvery of [1, 3, 8]) {
      const { machine, options } = buildNmiDoublingModel();
      const home = machine.snapshot();
      const r = search(machine, { ...options, keyEvery });
      expect(r.exhaustive).toBe(true);
      expect(r.violations.map((v) => v.invariant).sort()).toEqual(EVERY_OUTCOME);
      for (const v of r.violations) {
        machine.restore(home);
        expect(checkSchedule(machine, options, v.schedule).map((f) => f.invariant)).toContain(v.invariant);
      }
    }
  });

  it('a plan in jobs finds the same outcomes', async () => {
    for (const chunk of [1, 2, 5]) {
      const { machine, options } = buildNmiDoublingModel();
      const r = await searchInJobs(machine, options, new SearchPlan({}, chunk));
      expect(r.violations.map((v) => v.invariant).sort()).toEqual(EVERY_OUTCOME);
    }
  });
});
