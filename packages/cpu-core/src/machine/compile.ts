import type { Instruction } from 'iced-x86';
import { OpKind } from 'iced-x86';
import { VECTOR } from './arch.js';
import { fault } from './bus.js';
import { BY_MNEMONIC } from './isa/table.js';
import type { Ctx, Exec } from './isa/types.js';
import { Unsupported } from './isa/types.js';
import type { Op } from './op.js';

export { SUPPORTED_MNEMONICS } from './isa/table.js';

function ud(reason: string): Exec {
  return (c) => fault(c, VECTOR.UD, -1, reason);
}

/**
 * Compiles one decoded instruction into a closure. An instruction or form the table does
 * not model becomes #UD; an exception of any other kind out of a builder is a bug and propagates.
 */
export function compile(instr: Instruction, is64: boolean): Op {
  return { exec: build(instr, is64), len: instr.length };
}

function build(instr: Instruction, is64: boolean): Exec {
  if (instr.isInvalid) return ud('invalid opcode');
  const entry = BY_MNEMONIC.get(instr.mnemonic);
  const unsupported = `unsupported instruction (mnemonic ${instr.mnemonic})`;
  if (entry === undefined) return ud(unsupported);
  if (instr.hasLockPrefix && entry.lock !== true) return ud('lock prefix on an instruction that does not take it');
  if (instr.hasLockPrefix && instr.op0Kind !== OpKind.Memory) return ud('lock prefix without a memory destination');
  const next = instr.nextIP;
  const x: Ctx = {
    is64,
    nl: Number(next & 0xffffffffn),
    nh: is64 ? Number((next >> 32n) & 0xffffffffn) : 0,
    stackSize: is64 ? 8 : 4,
  };
  try {
    return entry.build(instr, x);
  } catch (e) {
    if (e instanceof Unsupported) return ud(unsupported);
    throw e;
  }
}
