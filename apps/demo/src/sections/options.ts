import { checkDateOption } from '@kernsim/dev-stats';
import { type SectionOptions, UsageError } from './section.js';

export function stringOption(options: SectionOptions, key: string, fallback: string): string {
  const value = options[key];
  return typeof value === 'string' ? value : fallback;
}

export function choiceOption<const T extends string>(
  options: SectionOptions,
  key: string,
  choices: readonly T[],
  fallback: T,
): T {
  const value = stringOption(options, key, fallback);
  const found = choices.find((choice) => choice === value);
  if (found === undefined) {
    throw new UsageError(`--${flagName(key)} must be one of ${choices.join(', ')}; got "${value}"`);
  }
  return found;
}

export function intOption(
  options: SectionOptions,
  key: string,
  fallback: number,
  range: { readonly min: number; readonly max: number },
): number {
  const raw = options[key];
  if (typeof raw !== 'string') return fallback;
  const value = Number(raw);
  if (!/^-?\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < range.min || value > range.max) {
    throw new UsageError(`--${flagName(key)} must be an integer from ${range.min} to ${range.max}; got "${raw}"`);
  }
  return value;
}

/**
 * An integer option whose values are a fixed set (`--max-cpus 2|4|16|…`): anything else,
 * 5 included, is bad usage rather than silently rounded to a neighbour.
 */
export function intChoiceOption(options: SectionOptions, key: string, choices: readonly number[], fallback: number): number {
  const raw = options[key];
  if (typeof raw !== 'string') return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !choices.includes(value)) {
    throw new UsageError(`--${flagName(key)} must be one of ${choices.join(', ')}; got "${raw}"`);
  }
  return value;
}

/** A `YYYY-MM-DD` option that names a real day (2012-02-30 does not). */
export function dateOption(options: SectionOptions, key: string, fallback: string): string {
  const raw = options[key];
  if (typeof raw !== 'string') return fallback;
  const time = Date.parse(`${raw}T00:00:00Z`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(raw) || !Number.isFinite(time) || new Date(time).toISOString().slice(0, 10) !== raw) {
    throw new UsageError(`--${flagName(key)} must be a date YYYY-MM-DD; got "${raw}"`);
  }
  return raw;
}

/** A `--since`/`--until` for git, in the forms dev-stats accepts (git itself reads any typo as "now"). */
export function gitDateOption(options: SectionOptions, key: string): string | undefined {
  const raw = options[key];
  if (typeof raw !== 'string') return undefined;
  try {
    return checkDateOption(`--${flagName(key)}`, raw);
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

/** Commander's camelCased key back to the flag a user typed (`maxCpus` → `max-cpus`). */
function flagName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
