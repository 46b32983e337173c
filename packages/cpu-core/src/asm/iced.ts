import { Code, Instruction, MemoryOperand, Register } from 'iced-x86';
import { AsmError } from './errors.js';
import type { Imm, Mem, Reg } from './operands.js';

/** What an instruction needs from the layout to be built: label addresses and its own place. */
export interface BuildContext {
  resolve(label: string): bigint;
  /** Address of the instruction. */
  readonly ip: bigint;
  /** Address just past the instruction (known once sizes are fixed). */
  readonly nextIp: bigint;
}

export type Bitness = 32 | 64;

const codeTable = Code as unknown as Readonly<Record<string, Code | undefined>>;

/** Looks up an iced `Code` by its name, e.g. `Add_rm64_imm8`. */
export function code(name: string): Code {
  const c = codeTable[name];
  if (c === undefined) throw new AsmError('KERNSIM_ASM_BAD_OPERANDS', `no x86 encoding named ${name}`);
  return c;
}

export const bitsOf = (size: number): string => String(size * 8);

/** Interprets `v` as an operand of `bytes` width and returns its signed value, or undefined if it cannot fit. */
export function signedIn(v: bigint, bytes: number): bigint | undefined {
  const bits = BigInt(bytes * 8);
  const lo = -(1n << (bits - 1n));
  const hi = 1n << bits;
  if (v < lo || v >= hi) return undefined;
  return v >= 1n << (bits - 1n) ? v - hi : v;
}

export const fitsI8 = (v: bigint): boolean => v >= -128n && v <= 127n;
export const fitsI32 = (v: bigint): boolean => v >= -0x80000000n && v <= 0x7fffffffn;

/** The value an immediate has once labels are known. */
export function immValue(i: Imm, ctx: BuildContext): bigint {
  return i.label !== undefined ? ctx.resolve(i.label) + i.value : i.value;
}

/** Builds iced's memory operand. Label or rip-relative displacements are always full width so sizes never depend on layout. */
export function icedMem(m: Mem, ctx: BuildContext, bitness: Bitness): MemoryOperand {
  const seg = m.segment ? m.segment.id : Register.None;
  const base = m.base ? m.base.id : Register.None;
  const index = m.index ? m.index.id : Register.None;
  const wide = bitness === 64 ? 8 : 4;
  if (m.base?.class === 'ip') {
    const target = m.label !== undefined ? ctx.resolve(m.label) + m.disp : ctx.nextIp + m.disp;
    return new MemoryOperand(base, Register.None, 1, BigInt.asUintN(64, target), wide, false, seg);
  }
  let disp = m.disp;
  let size: number;
  if (m.label !== undefined) {
    disp += ctx.resolve(m.label);
    size = wide;
  } else if (base === Register.None) size = wide;
  else if (disp === 0n && m.base?.number !== 5 && m.base?.number !== 13) size = 0;
  else size = fitsI8(disp) ? 1 : wide;
  if (bitness === 32) {
    if (disp < -0x80000000n || disp > 0xffffffffn) throw rangeError(`displacement ${disp.toString()} does not fit 32 bits`);
    disp = BigInt.asUintN(32, disp);
  } else {
    const sd = signedIn(disp, 8);
    if (sd === undefined || (size !== 0 && !fitsI32(sd))) {
      throw rangeError(`displacement 0x${BigInt.asUintN(64, disp).toString(16)} does not fit a sign-extended 32-bit field`);
    }
    disp = BigInt.asUintN(64, disp);
  }
  return new MemoryOperand(base, index, m.scale, disp, size, false, seg);
}

function rangeError(message: string): AsmError {
  return new AsmError('KERNSIM_ASM_RANGE', message);
}

export type Arg = { readonly r: Reg } | { readonly m: Mem } | { readonly i: number };

/** Creates an iced instruction from resolved operands (registers, memory, 32-bit immediates). */
export function create(c: Code, args: readonly Arg[], ctx: BuildContext, bitness: Bitness): Instruction {
  const [a, b] = args;
  if (a === undefined) return Instruction.create(c);
  const mem = (x: { m: Mem }): MemoryOperand => icedMem(x.m, ctx, bitness);
  if (b === undefined) {
    if ('r' in a) return Instruction.createReg(c, a.r.id);
    if ('m' in a) return Instruction.createMem(c, mem(a));
    return Instruction.createI32(c, a.i);
  }
  if ('r' in a) {
    if ('r' in b) return Instruction.createRegReg(c, a.r.id, b.r.id);
    if ('m' in b) return Instruction.createRegMem(c, a.r.id, mem(b));
    return Instruction.createRegI32(c, a.r.id, b.i);
  }
  if ('m' in a) {
    if ('r' in b) return Instruction.createMemReg(c, mem(a), b.r.id);
    if ('m' in b) throw new AsmError('KERNSIM_ASM_BAD_OPERANDS', 'x86 has no memory-to-memory form here');
    return Instruction.createMemI32(c, mem(a), b.i);
  }
  if ('r' in b) return Instruction.createI32Reg(c, a.i, b.r.id);
  throw new AsmError('KERNSIM_ASM_BAD_OPERANDS', 'unsupported operand combination');
}
