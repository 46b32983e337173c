import type { NmiEntry } from '@kernsim/kernel';
import { latchEntry } from '@kernsim/nmi-i386';
import { NmiX86Error } from '../errors.js';
import { faultingIretEntry } from '../faulting-iret-entry.js';
import { naiveEntry } from '../naive-entry.js';
import { retFromFaultEntry } from '../ret-from-fault-entry.js';
import { nestedEntry } from '../nested-entry.js';
import type { NestedEntryOptions } from '../nested-entry.js';
import type { SeriesPart } from '../series.js';

/**
 * The article's other designs: the 2010 proposals that replace the entry (Desnoyers's
 * `ret-from-fault`, Torvalds's `faulting-iret`), the 3.3 entry with one of its two nesting
 * checks only, and the i386 latch left without cmpxchg.
 */
export type EntryVariant = 'ret-from-fault' | 'faulting-iret' | 'variable-only' | 'stack-check-only' | 'no-cmpxchg';
export const ENTRY_VARIANTS: readonly EntryVariant[] = ['ret-from-fault', 'faulting-iret', 'variable-only', 'stack-check-only', 'no-cmpxchg'];

const SERIES_PARTS: readonly SeriesPart[] = ['executingVariable', 'stackCheck', 'repeatGuard', 'rearmInRepeat', 'restoreCopiedFrame', 'debugStackFix'];

export interface EntryChoice {
  /** x86_64 (default) or i386, where `naive` is the entry without the nmi_state latch and `nested` the 3.3 latch. */
  readonly arch?: 'x86_64' | 'i386';
  readonly entry: 'naive' | 'nested';
  readonly variant?: EntryVariant;
  /** A part of the 3.3 series to leave out (nested only). */
  readonly without?: SeriesPart;
}

/**
 * The entry to explore: `naive` (before 3.3), `nested` (3.3), a part of the series left out,
 * or a variant of `nested`: one of the 2010 designs the article tells of, which bring their own
 * entry and exception returns (`ret-from-fault`, `faulting-iret`), or the 3.3 entry protected
 * by one mechanism only: the "NMI executing" variable alone (`variable-only`) or the
 * stack-pointer check alone (`stack-check-only`).
 */
export function selectEntry(choice: { readonly arch?: string; readonly entry: string; readonly variant?: string; readonly without?: string }): NmiEntry {
  if (choice.arch === 'i386') return selectI386(choice);
  if (choice.arch !== undefined && choice.arch !== 'x86_64') throw new NmiX86Error('KERNSIM_NMI64_BAD_EXPLORE', `arch must be x86_64 or i386, got ${choice.arch}`);
  if (choice.variant === 'no-cmpxchg') throw new NmiX86Error('KERNSIM_NMI64_BAD_EXPLORE', 'the no-cmpxchg variant is the i386 latch\'s (arch i386)');
  if (choice.entry === 'naive') {
    if (choice.variant !== undefined || choice.without !== undefined) throw new NmiX86Error('KERNSIM_NMI64_BAD_EXPLORE', 'variants and --without apply to the nested entry, not naive');
    return naiveEntry();
  }
  if (choice.entry !== 'nested') throw new NmiX86Error('KERNSIM_NMI64_BAD_ENTRY', `entry must be naive or nested, got ${choice.entry}`);
  if (choice.variant === 'ret-from-fault' || choice.variant === 'faulting-iret') {
    if (choice.without !== undefined) throw new NmiX86Error('KERNSIM_NMI64_BAD_EXPLORE', `--without applies to the 3.3 entry, not the ${choice.variant} design`);
    return choice.variant === 'ret-from-fault' ? retFromFaultEntry() : faultingIretEntry();
  }
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

/** i386: `naive` has no latch, `nested` is 3.3's nmi_state latch, `no-cmpxchg` that latch left with a test and a store. */
function selectI386(choice: { readonly entry: string; readonly variant?: string; readonly without?: string }): NmiEntry {
  if (choice.without !== undefined) throw new NmiX86Error('KERNSIM_NMI64_BAD_EXPLORE', '--without applies to the x86_64 3.3 entry');
  if (choice.entry !== 'naive' && choice.entry !== 'nested') throw new NmiX86Error('KERNSIM_NMI64_BAD_ENTRY', `entry must be naive or nested, got ${choice.entry}`);
  if (choice.variant !== undefined && (choice.variant !== 'no-cmpxchg' || choice.entry !== 'nested')) throw new NmiX86Error('KERNSIM_NMI64_BAD_EXPLORE', `on i386 the only variant is no-cmpxchg, of the nested (latch) entry; got ${choice.variant}`);
  return latchEntry({ latch: choice.entry === 'nested', cmpxchg: choice.variant !== 'no-cmpxchg' });
}

export { SERIES_PARTS };
