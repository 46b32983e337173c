import type { Machine } from '../machine/machine.js';
import type { SearchOptions, SearchResult } from './model.js';
import { runSearch } from './search-runner.js';

/**
 * Searches every schedule from the machine's current state (which CPU steps, which declared
 * event fires where) up to `maxDepth`, and reports one shortest counterexample per violated
 * invariant. The machine is left as it was.
 */
export function search(machine: Machine, options: SearchOptions): SearchResult {
  const r = runSearch(machine, options);
  return { verdict: r.verdict, states: r.states, transitions: r.transitions, schedules: r.schedules, violations: r.violations, exhaustive: r.exhaustive, depth: r.depth, reducedNodes: r.reducedNodes, reductionWithdrawn: r.reductionWithdrawn };
}
