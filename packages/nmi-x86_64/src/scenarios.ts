import { runNmiScenario, SCENARIO_IDS } from '@kernsim/kernel';
import type { RunOptions, ScenarioId, ScenarioResult } from '@kernsim/kernel';
import { entryByName } from './entries.js';
import { nestedEntry } from './nested-entry.js';
import type { NestedEntryOptions } from './nested-entry.js';
import type { EntryName } from './entries.js';
import { NmiX86Error } from './errors.js';

export interface X86ScenarioOptions extends RunOptions {
  /** `naive` (before 3.3) or `nested` (3.3, the default). */
  readonly entry?: EntryName;
  /** For the debug-stack scenario: run the 3.3 entry without the debug-stack fix. */
  readonly withoutDebugStackFix?: boolean;
  /** Parts of the 3.3 series to leave out of the nested entry (see `SERIES_CASES`). */
  readonly nested?: NestedEntryOptions;
}

/**
 * Runs one of the NMI scenarios on an x86_64 machine with the chosen entry and
 * returns what happened: crash and reason, NMI accounting, console, dump status,
 * nesting, the story of events and NMI stack captures for diagrams.
 */
export function runScenario(id: ScenarioId, options: X86ScenarioOptions = {}): ScenarioResult {
  if (!SCENARIO_IDS.includes(id)) throw new NmiX86Error('KERNSIM_NMI64_BAD_SCENARIO', `unknown scenario ${id}; expected one of ${SCENARIO_IDS.join(', ')}`);
  const name = options.entry ?? 'nested';
  const nested: NestedEntryOptions = { ...options.nested, ...(options.withoutDebugStackFix ? { debugStackFix: false } : {}) };
  const entry = name === 'nested' ? nestedEntry(nested) : entryByName(name);
  return runNmiScenario(entry, id, options);
}
