import { runNmiScenario, SCENARIO_IDS } from '@kernsim/kernel';
import type { RunOptions, ScenarioId, ScenarioResult } from '@kernsim/kernel';
import { NmiI386Error } from './errors.js';
import { latchEntry } from './latch-entry.js';

export interface I386ScenarioOptions extends RunOptions {
  /** With the 3.3 nmi_state latch (default true), or without it (the i386 path before 3.3). */
  readonly latch?: boolean;
}

/** Runs one of the NMI scenarios on an i386 machine and returns what happened. */
export function runScenario(id: ScenarioId, options: I386ScenarioOptions = {}): ScenarioResult {
  if (!SCENARIO_IDS.includes(id)) throw new NmiI386Error('KERNSIM_NMI32_BAD_SCENARIO', `unknown scenario ${id}; expected one of ${SCENARIO_IDS.join(', ')}`);
  if (id === 'debug-stack') throw new NmiI386Error('KERNSIM_NMI32_BAD_SCENARIO', 'the debug-stack scenario is x86_64 only: i386 has no IST stacks');
  return runNmiScenario(latchEntry({ latch: options.latch ?? true }), id, options);
}
