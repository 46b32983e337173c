import type { Mnemonic } from 'iced-x86';
import { ALU_ENTRIES } from './alu.js';
import { BITS_ENTRIES } from './bits.js';
import { COND_ENTRIES } from './cond.js';
import { CONTROL_ENTRIES } from './control.js';
import { CONVERT_ENTRIES } from './convert.js';
import { DATA_ENTRIES } from './data.js';
import { MULDIV_ENTRIES } from './muldiv.js';
import { ROTATE_ENTRIES } from './rotate.js';
import { STACK_ENTRIES } from './stack.js';
import { STRING_ENTRIES } from './string.js';
import { SYSTEM_ENTRIES } from './system.js';
import type { IsaEntry } from './types.js';

/** The instruction table: every instruction the machine executes, by family. */
export const ISA: readonly IsaEntry[] = [
  ...ALU_ENTRIES,
  ...ROTATE_ENTRIES,
  ...MULDIV_ENTRIES,
  ...BITS_ENTRIES,
  ...DATA_ENTRIES,
  ...CONVERT_ENTRIES,
  ...STACK_ENTRIES,
  ...CONTROL_ENTRIES,
  ...COND_ENTRIES,
  ...STRING_ENTRIES,
  ...SYSTEM_ENTRIES,
];

/** The same table keyed by iced mnemonic. */
export const BY_MNEMONIC: ReadonlyMap<Mnemonic, IsaEntry> = indexByMnemonic(ISA);

function indexByMnemonic(entries: readonly IsaEntry[]): Map<Mnemonic, IsaEntry> {
  const map = new Map<Mnemonic, IsaEntry>();
  for (const e of entries) {
    for (const mn of e.mnemonics) {
      // Two rows claiming one mnemonic would make the table ambiguous: a bug, found at load.
      if (map.has(mn)) throw new Error(`instruction table: mnemonic ${mn} appears twice`);
      map.set(mn, e);
    }
  }
  return map;
}

/** Instructions the machine executes; everything else decodes to #UD. */
export const SUPPORTED_MNEMONICS: readonly string[] = [...new Set(ISA.flatMap((e) => e.names))];
