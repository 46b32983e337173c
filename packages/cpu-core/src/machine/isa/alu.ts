import { Mnemonic, OpKind } from 'iced-x86';
import type { Instruction } from 'iced-x86';
import { ADC, ADD, alu, AND, CMP, MASK, OR, ROL, ROR, SAR, SBB, shift, SHL, SHR, SUB, TEST, XOR } from '../alu.js';
import { aluImmToMemorySource, aluMemoryToRegisterSource, incDecMemorySource, shiftSource } from '../block-source.js';
import { fastAlu } from '../fast.js';
import { rdFast, wrFast } from '../bus.js';
import { immHalves, immLoc, isImm, operand, regInfo, regLoc } from '../operands.js';
import type { Loc } from '../operands.js';
import type { Ctx, Exec, IsaEntry } from './types.js';
import { need, sizeOf, unsupported } from './types.js';

const ALU_OPS = new Map<Mnemonic, number>([
  [Mnemonic.Add, ADD],
  [Mnemonic.Or, OR],
  [Mnemonic.Adc, ADC],
  [Mnemonic.Sbb, SBB],
  [Mnemonic.And, AND],
  [Mnemonic.Sub, SUB],
  [Mnemonic.Xor, XOR],
  [Mnemonic.Cmp, CMP],
  [Mnemonic.Test, TEST],
]);

const SHIFT_OPS = new Map<Mnemonic, number>([
  [Mnemonic.Shl, SHL],
  [Mnemonic.Sal, SHL],
  [Mnemonic.Shr, SHR],
  [Mnemonic.Sar, SAR],
  [Mnemonic.Rol, ROL],
  [Mnemonic.Ror, ROR],
]);

/** Destination operand of a one- or two-operand ALU instruction, at its own width. */
export function dest(instr: Instruction, x: Ctx): Loc {
  const size = sizeOf(instr, 0);
  if (size === 0) unsupported('destination of no known width');
  return need(operand(instr, 0, size, x.is64), 'destination operand');
}

function buildAlu(instr: Instruction, x: Ctx): Exec {
  const aluOp = ALU_OPS.get(instr.mnemonic)!;
  const { nl, nh } = x;
  const d = dest(instr, x);
  const size = d.size;
  const s = need(operand(instr, 1, size, x.is64), 'source operand');
  const writes = aluOp !== CMP && aluOp !== TEST;
  const fast = fastAlu(instr, aluOp, nl, nh);
  if (fast) return fast;
  if (!d.mem && !s.mem && size >= 4) {
    // Register/immediate forms skip the effective-address step.
    const dg = d.get;
    const ds = d.set;
    const sg = s.get;
    return (c) => {
      const a = dg(c);
      const ah = c.vh;
      const b = sg(c);
      const r = alu(c, aluOp, size, a, ah, b, c.vh);
      if (writes) ds(c, r, c.rh);
      c.ipLo = nl;
      c.ipHi = nh;
    };
  }
  if (d.mem && isImm(instr.op1Kind)) return aluImmToMemory(d, aluOp, size, immHalves(instr.immediate(1), size), writes, nl, nh);
  const dst = regInfo(instr.op0Register);
  if (s.mem && dst !== undefined && dst.size >= 4) return aluMemoryToRegister(s, aluOp, size, dst.idx, writes, nl, nh);
  return (c) => {
    const a = d.get(c);
    const ah = c.vh;
    const b = s.get(c);
    const r = alu(c, aluOp, size, a, ah, b, c.vh);
    if (writes) d.setAt(c, r, c.rh);
    c.ipLo = nl;
    c.ipHi = nh;
  };
}

/*
 * The memory forms below are the generic closure with the operand accessors' bodies written in
 * (`memLoc`'s get and setAt, `regLoc`'s 32/64-bit get and set, `immLoc`'s value): the same reads,
 * writes and order, two or three closure calls fewer a step — measured, each such call costs
 * about as much as the operation itself (README, *Performance*).
 */

/** `op [mem], imm` (cmp, add, and… with a memory destination and an immediate). */
function aluImmToMemory(d: Loc, aluOp: number, size: number, [il, ih]: [number, number], writes: boolean, nl: number, nh: number): Exec {
  const ea = d.ea;
  const aluToMemory: Exec = (c) => {
    ea(c);
    const a = rdFast(c, c.eaLo, c.eaHi, size);
    const r = alu(c, aluOp, size, a, c.vh, il, ih);
    if (writes) wrFast(c, c.eaLo, c.eaHi, size, r, c.rh);
    c.ipLo = nl;
    c.ipHi = nh;
  };
  return aluImmToMemorySource(aluToMemory, ea, aluOp, size, il, ih, writes, nl, nh);
}

/** `op %reg, [mem]` with a 32/64-bit register destination. */
function aluMemoryToRegister(s: Loc, aluOp: number, size: number, di: number, writes: boolean, nl: number, nh: number): Exec {
  const ea = s.ea;
  const wide = size === 8;
  const aluFromMemory: Exec = (c) => {
    const a = c.lo[di]!;
    const ah = wide ? c.hi[di]! : 0;
    ea(c);
    const b = rdFast(c, c.eaLo, c.eaHi, size);
    const r = alu(c, aluOp, size, a, ah, b, c.vh);
    if (writes) {
      c.lo[di] = r;
      c.hi[di] = wide ? c.rh : 0;
    }
    c.ipLo = nl;
    c.ipHi = nh;
  };
  return aluMemoryToRegisterSource(aluFromMemory, ea, aluOp, size, di, writes, nl, nh);
}

/** The shift count operand: CL or an immediate (the 1-forms decode with an immediate 1). */
export function countLoc(instr: Instruction, n: number): Loc {
  const k = instr.opKind(n);
  if (k === OpKind.Register) return need(regLoc(instr.opRegister(n)), 'count register');
  if (isImm(k)) return immLoc(instr.immediate(n), 1);
  return unsupported('count operand');
}

function buildShift(instr: Instruction, x: Ctx): Exec {
  const shOp = SHIFT_OPS.get(instr.mnemonic)!;
  const { nl, nh } = x;
  const d = dest(instr, x);
  const size = sizeOf(instr, 0);
  const cnt = countLoc(instr, 1);
  const r0 = regInfo(instr.op0Register);
  if (instr.op0Kind === OpKind.Register && r0 !== undefined && r0.size >= 4 && isImm(instr.op1Kind)) return shiftRegisterByImm(shOp, size, r0.idx, immHalves(instr.immediate(1), 1)[0], nl, nh);
  return (c) => {
    const a = d.get(c);
    const ah = c.vh;
    const n = cnt.get(c) & 0xff;
    const r = shift(c, shOp, size, a, ah, n);
    d.setAt(c, r, c.rh);
    c.ipLo = nl;
    c.ipHi = nh;
  };
}

/** `shl/shr/sar/rol/ror %reg, imm` on a 32/64-bit register. */
function shiftRegisterByImm(shOp: number, size: number, di: number, n: number, nl: number, nh: number): Exec {
  const wide = size === 8;
  const shiftByImm: Exec = (c) => {
    const r = shift(c, shOp, size, c.lo[di]!, wide ? c.hi[di]! : 0, n);
    c.lo[di] = r;
    c.hi[di] = wide ? c.rh : 0;
    c.ipLo = nl;
    c.ipHi = nh;
  };
  return shiftSource(shiftByImm, shOp, size, di, n, nl, nh);
}

function buildIncDec(instr: Instruction, x: Ctx): Exec {
  const { nl, nh } = x;
  const d = dest(instr, x);
  const sz = sizeOf(instr, 0);
  const op = instr.mnemonic === Mnemonic.Inc ? ADD : SUB;
  if (d.mem) {
    const ea = d.ea;
    const incDecMemory: Exec = (c) => {
      ea(c);
      const a = rdFast(c, c.eaLo, c.eaHi, sz);
      const cf = c.cf;
      const r = alu(c, op, sz, a, c.vh, 1, 0);
      c.cf = cf;
      wrFast(c, c.eaLo, c.eaHi, sz, r, c.rh);
      c.ipLo = nl;
      c.ipHi = nh;
    };
    return incDecMemorySource(incDecMemory, ea, op === ADD, sz, nl, nh);
  }
  return (c) => {
    const a = d.get(c);
    const cf = c.cf;
    const r = alu(c, op, sz, a, c.vh, 1, 0);
    c.cf = cf;
    d.setAt(c, r, c.rh);
    c.ipLo = nl;
    c.ipHi = nh;
  };
}

function buildNegNot(instr: Instruction, x: Ctx): Exec {
  const { nl, nh } = x;
  const d = dest(instr, x);
  const sz = sizeOf(instr, 0);
  const neg = instr.mnemonic === Mnemonic.Neg;
  return (c) => {
    const a = d.get(c);
    const ah = c.vh;
    if (neg) {
      const r = alu(c, SUB, sz, 0, 0, a, ah);
      d.setAt(c, r, c.rh);
    } else d.setAt(c, (~a & MASK[sz]!) >>> 0, sz === 8 ? ~ah >>> 0 : 0);
    c.ipLo = nl;
    c.ipHi = nh;
  };
}

export const ALU_ENTRIES: readonly IsaEntry[] = [
  { names: ['add', 'adc', 'sub', 'sbb', 'and', 'or', 'xor'], family: 'alu', lock: true, mnemonics: [Mnemonic.Add, Mnemonic.Adc, Mnemonic.Sub, Mnemonic.Sbb, Mnemonic.And, Mnemonic.Or, Mnemonic.Xor], build: buildAlu },
  { names: ['cmp', 'test'], family: 'alu', mnemonics: [Mnemonic.Cmp, Mnemonic.Test], build: buildAlu },
  { names: ['inc', 'dec'], family: 'alu', lock: true, mnemonics: [Mnemonic.Inc, Mnemonic.Dec], build: buildIncDec },
  { names: ['neg', 'not'], family: 'alu', lock: true, mnemonics: [Mnemonic.Neg, Mnemonic.Not], build: buildNegNot },
  { names: ['shl', 'shr', 'sar', 'rol', 'ror'], family: 'shift', mnemonics: [Mnemonic.Shl, Mnemonic.Sal, Mnemonic.Shr, Mnemonic.Sar, Mnemonic.Rol, Mnemonic.Ror], build: buildShift },
];
