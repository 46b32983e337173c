import type { NmiEntry } from '@kernsim/kernel';
import { naiveEntry } from './naive-entry.js';
import { nestedEntry } from './nested-entry.js';
import { NmiX86Error } from './errors.js';

export type EntryName = 'naive' | 'nested';
export const ENTRY_NAMES: readonly EntryName[] = ['naive', 'nested'];

/** The NMI entry by name: `naive` (before 3.3) or `nested` (3.3). */
export function entryByName(name: string): NmiEntry {
  if (name === 'naive') return naiveEntry();
  if (name === 'nested') return nestedEntry();
  throw new NmiX86Error('KERNSIM_NMI64_BAD_ENTRY', `entry must be naive or nested, got ${name}`);
}
