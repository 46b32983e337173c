import type { NmiEntry } from '@kernsim/kernel';
import { NmiX86Error } from '../errors.js';
import { naiveEntry } from '../naive-entry.js';
import { nestedEntry } from '../nested-entry.js';
import type { NestedEntryOptions } from '../nested-entry.js';
import type { SeriesPart } from '../series.js';

/** The article's other designs, as variants of the 3.3 entry. */
export type EntryVariant = 'variable-only' | 'stack-check-only';
export const ENTRY_VARIANTS: readonly EntryVariant[] = ['variable-only', 'stack-check-only'];

const SERIES_PARTS: readonly SeriesPart[] = ['executingVariable', 'stackCheck', 'repeatGuard', 'rearmInRepeat', 'restoreCopiedFrame', 'debugStackFix'];

export interface EntryChoice {
  readonly entry: 'naive' | 'nested';
  readonly variant?: EntryVariant;
  /** A part of the 3.3 series to leave out (nested only). */
  readonly without?: SeriesPart;
}

/**
 * The entry to explore: `naive` (before 3.3), `nested` (3.3), a part of the series left out,
 * or one of the designs the article discusses that protect with one mechanism only: the
 * "NMI executing" variable alone (`variable-only`) or the stack-pointer check alone
 * (`stack-check-only`).
 */
export function selectEntry(choice: { readonly entry: string; readonly variant?: string; readonly without?: string }): NmiEntry {
  if (choice.entry === 'naive') {
    if (choice.variant !== undefined || choice.without !== undefined) throw new NmiX86Error('KERNSIM_NMI64_BAD_EXPLORE', 'variants and --without apply to the nested entry, not naive');
    return naiveEntry();
  }
  if (choice.entry !== 'nested') throw new NmiX86Error('KERNSIM_NMI64_BAD_ENTRY', `entry must be naive or nested, got ${choice.entry}`);
  const opts: { -readonly [K in keyof NestedEntryOptions]: NestedEntryOptions[K] } = {};
  if (choice.variant === 'variable-only') opts.stackCheck = false;
  else if (choice.variant === 'stack-check-only') opts.executingVariable = false;
  else if (choice.variant !== undefined) throw new NmiX86Error('KERNSIM_NMI64_BAD_EXPLORE', `variant must be one of ${ENTRY_VARIANTS.join(', ')}, got ${choice.variant}`);
  if (choice.without !== undefined) {
    const part = SERIES_PARTS.find((x) => x === choice.without);
    if (!part) throw new NmiX86Error('KERNSIM_NMI64_BAD_EXPLORE', `--without must be one of ${SERIES_PARTS.join(', ')}, got ${choice.without}`);
    opts[part] = false;
  }
  return nestedEntry(opts);
}

export { SERIES_PARTS };
