import { OpKind } from 'iced-x86';
import type { Instruction, Mnemonic } from 'iced-x86';
import type { CpuState } from '../cpu.js';
import { memSize, regInfo } from '../operands.js';

/** A compiled instruction: runs it and advances (or redirects) RIP. */
export type Exec = (c: CpuState) => void;

/** What every builder needs besides the decoded instruction. */
export interface Ctx {
  readonly is64: boolean;
  /** RIP of the next instruction, as two 32-bit halves. */
  readonly nl: number;
  readonly nh: number;
  /** Bytes a push/pop/call/ret moves the stack pointer by in this mode. */
  readonly stackSize: number;
}

/** Turns one decoded instruction into its closure; throws `Unsupported` for a form the machine does not model. */
export type Builder = (instr: Instruction, x: Ctx) => Exec;

/** One row of the instruction table. */
export interface IsaEntry {
  /** Names the entry contributes to `SUPPORTED_MNEMONICS` (and the README table). */
  readonly names: readonly string[];
  readonly family: string;
  readonly mnemonics: readonly Mnemonic[];
  /** `lock` is allowed (with a memory destination), as the SDM lists for this instruction. */
  readonly lock?: boolean;
  readonly build: Builder;
}

/**
 * A form the machine does not model (a far branch, a 16-bit iret…): it executes as #UD.
 * Any other exception out of a builder is a bug in the builder and propagates.
 */
export class Unsupported extends Error {
  override readonly name = 'Unsupported';
}

export function unsupported(why: string): never {
  throw new Unsupported(why);
}

/** Returns `v`, or throws `Unsupported` when a builder helper found no way to express the operand. */
export function need<T>(v: T | undefined, what: string): T {
  if (v === undefined) unsupported(what);
  return v;
}

/** Width in bytes of operand `n` (register or memory); 0 for anything else. */
export function sizeOf(instr: Instruction, n: number): number {
  const k = instr.opKind(n);
  if (k === OpKind.Register) return regInfo(instr.opRegister(n))?.size ?? 0;
  if (k === OpKind.Memory) return memSize(instr) ?? 0;
  return 0;
}

/** Sign-extends the low `size` bytes of `v`: [low half, high half] as unsigned 32-bit numbers. */
export function sext(v: number, size: number): [number, number] {
  if (size === 1) v = (v << 24) >> 24;
  else if (size === 2) v = (v << 16) >> 16;
  else v = v | 0;
  return [v >>> 0, v < 0 ? 0xffffffff : 0];
}
