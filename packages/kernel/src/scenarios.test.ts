import { describe, expect, it } from 'vitest';
import { KernelError } from './errors.js';
import { runNmiScenario } from './scenario-runner.js';
import { scenarioSpec, SCENARIO_IDS } from './scenarios.js';
import type { NmiEntry } from './nmi-entry.js';
import type { ScenarioId } from './scenarios.js';

function code(f: () => unknown): string | undefined {
  try {
    f();
  } catch (error) {
    return error instanceof KernelError ? error.code : `not a KernelError: ${String(error)}`;
  }
  return undefined;
}

describe('scenarioSpec', () => {
  it('builds every scenario, with any whole delay from 0', () => {
    for (const id of SCENARIO_IDS) {
      expect(scenarioSpec(id).id).toBe(id);
      expect(scenarioSpec(id, { delay: 0 }).id).toBe(id);
    }
  });

  it('refuses a delay that is not a whole number of instructions, 0 or more', () => {
    for (const delay of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(code(() => scenarioSpec('perf-vmalloc', { delay }))).toBe('KERNSIM_KERNEL_BAD_OPTIONS');
    }
  });

  it('refuses an unknown scenario with the typed error, before anything boots', () => {
    expect(code(() => scenarioSpec('bogus' as ScenarioId))).toBe('KERNSIM_KERNEL_BAD_OPTIONS');
    // The entry is never looked at: the scenario is refused first.
    expect(code(() => runNmiScenario({} as NmiEntry, 'bogus' as ScenarioId))).toBe('KERNSIM_KERNEL_BAD_OPTIONS');
    expect(code(() => runNmiScenario({} as NmiEntry, 'perf-vmalloc', { delay: Number.NaN }))).toBe('KERNSIM_KERNEL_BAD_OPTIONS');
  });
});
