import { Mnemonic, OpKind } from 'iced-x86';
import type { Instruction } from 'iced-x86';
import { ADC, ADD, alu, AND, CMP, MASK, OR, ROL, ROR, SAR, SBB, shift, SHL, SHR, SUB, TEST, XOR } from '../alu.js';
import { fastAlu } from '../fast.js';
import { immLoc, isImm, operand, regLoc } from '../operands.js';
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

function buildIncDec(instr: Instruction, x: Ctx): Exec {
  const { nl, nh } = x;
  const d = dest(instr, x);
  const sz = sizeOf(instr, 0);
  const op = instr.mnemonic === Mnemonic.Inc ? ADD : SUB;
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
