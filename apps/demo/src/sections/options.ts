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
    throw new UsageError(`--${key} must be one of ${choices.join(', ')}; got "${value}"`);
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
    throw new UsageError(`--${key} must be an integer from ${range.min} to ${range.max}; got "${raw}"`);
  }
  return value;
}
