// Checks made at the API edge, before anything changes: a value from outside that the model
// cannot represent (NaN, a fraction of a CPU, a negative size) is a typed error naming the
// value, never a silent wrong result.
import { MemcgError } from './errors.js';

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${String(value)}n`;
  if (typeof value === 'function') return 'a function';
  if (value !== null && typeof value === 'object') return Array.isArray(value) ? 'an array' : 'an object';
  return String(value);
}

function bad(expected: string, value: unknown): MemcgError {
  return new MemcgError('KERNSIM_MEMCG_BAD_ARGUMENT', `expected ${expected}; got ${describe(value)}`);
}

/** An integer from `min` to `max` inclusive. */
export function checkInt(value: unknown, what: string, min: number, max: number = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw bad(max === Number.MAX_SAFE_INTEGER ? `${what} as an integer >= ${String(min)}` : `${what} as an integer from ${String(min)} to ${String(max)}`, value);
  }
  return value;
}

/** A byte count for a limit: a whole number of bytes >= 0, or Infinity for "no limit" (the kernel's -1). */
export function checkLimitBytes(value: unknown, what: string): number {
  if (value === Number.POSITIVE_INFINITY) return value;
  return checkInt(value, `${what} in bytes (or Infinity)`, 0);
}

/** A number > 0 and finite (a scale factor). */
export function checkPositive(value: unknown, what: string, max: number): number {
  if (typeof value !== 'number' || !(value > 0) || !(value <= max)) throw bad(`${what} above 0 and at most ${String(max)}`, value);
  return value;
}

export function checkBoolean(value: unknown, what: string): boolean {
  if (typeof value !== 'boolean') throw bad(`${what} as true or false`, value);
  return value;
}

/** A non-empty name without '/' or control characters (a cgroup directory or cache name). */
export function checkName(value: unknown, what: string): string {
  // eslint-disable-next-line no-control-regex
  if (typeof value !== 'string' || value.length === 0 || value.length > 255 || /[/\u0000-\u001f\u007f]/.test(value)) {
    throw bad(`${what} of 1 to 255 characters without '/' or control characters`, value);
  }
  return value;
}

export function checkFunction<F>(value: F, what: string): F {
  if (typeof value !== 'function') throw bad(`${what} as a function`, value);
  return value;
}

/** One of a fixed set of strings. */
export function checkChoice<const T extends string>(value: unknown, what: string, choices: readonly T[]): T {
  const found = choices.find((c) => c === value);
  if (found === undefined) throw bad(`${what} as one of ${choices.join(', ')}`, value);
  return found;
}
