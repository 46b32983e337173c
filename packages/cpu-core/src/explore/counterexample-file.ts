import type { CounterexampleFileOf } from './model.js';

/** Whether `data` has a saved counterexample's shape for `format` (the domain checks its params). */
export function isCounterexampleFile<Format extends string>(data: unknown, format: Format): data is CounterexampleFileOf<Format, Record<string, unknown>> {
  const d = data as Partial<CounterexampleFileOf<Format, unknown>> | null;
  return typeof d === 'object' && d !== null && d.format === format && d.version === 1 &&
    typeof d.invariant === 'string' && typeof d.detail === 'string' && Array.isArray(d.schedule) &&
    typeof d.params === 'object' && d.params !== null;
}
