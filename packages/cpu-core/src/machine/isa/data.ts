import { Mnemonic, OpKind, Register } from 'iced-x86';
import type { Instruction } from 'iced-x86';
import { ADD, alu, CMP, MASK } from '../alu.js';
import { fastMov, fastMovMem } from '../fast.js';
import { eaFn, memSize, operand, regLoc } from '../operands.js';
import { dest } from './alu.js';
import { movCrOrSeg } from './system.js';
import type { Ctx, Exec, IsaEntry } from './types.js';
import { need, sext, sizeOf, unsupported } from './types.js';

function buildMov(instr: Instruction, x: Ctx): Exec {
  const { nl, nh, is64 } = x;
  const special = movCrOrSeg(instr, x);
  if (special) return special;
  const fast = fastMov(instr, nl, nh) ?? fastMovMem(instr, is64, nl, nh);
  if (fast) return fast;
  const size = instr.op0Kind === OpKind.Memory ? (memSize(instr) ?? 0) : sizeOf(instr, 0);
  if (size === 0) unsupported('mov of no known width');
  const d = need(operand(instr, 0, size, is64), 'mov destination');
  const s = need(operand(instr, 1, size, is64), 'mov source');
  if (!d.mem && !s.mem) {
    const dset = d.set;
    const sget = s.get;
    return (c) => {
      dset(c, sget(c), c.vh);
      c.ipLo = nl;
      c.ipHi = nh;
    };
  }
  return (c) => {
    const v = s.get(c);
    d.set(c, v, c.vh);
    c.ipLo = nl;
    c.ipHi = nh;
  };
}

function buildMovx(instr: Instruction, x: Ctx): Exec {
  const { nl, nh } = x;
  const dsz = sizeOf(instr, 0);
  const ssz = sizeOf(instr, 1);
  const d = need(operand(instr, 0, dsz, x.is64), 'movx destination');
  const s = need(operand(instr, 1, ssz, x.is64), 'movx source');
  const signed = instr.mnemonic !== Mnemonic.Movzx;
  return (c) => {
    const v = s.get(c);
    if (signed) {
      const [l, h] = sext(v, ssz);
      d.set(c, (l & MASK[dsz]!) >>> 0, dsz === 8 ? h : 0);
    } else d.set(c, v, 0);
    c.ipLo = nl;
    c.ipHi = nh;
  };
}

function buildLea(instr: Instruction, x: Ctx): Exec {
  const { nl, nh } = x;
  const d = need(regLoc(instr.op0Register), 'lea destination');
  const ea = need(eaFn(instr, x.is64, true), 'lea address');
  const dsz = d.size;
  return (c) => {
    ea(c);
    d.set(c, dsz === 2 ? c.eaLo & 0xffff : c.eaLo, dsz === 8 ? c.eaHi : 0);
    c.ipLo = nl;
    c.ipHi = nh;
  };
}

const ACC = [Register.None, Register.AL, Register.AX, Register.None, Register.EAX, Register.None, Register.None, Register.None, Register.RAX];

function buildCmpxchg(instr: Instruction, x: Ctx): Exec {
  const { nl, nh } = x;
  const d = dest(instr, x);
  const sz = d.size;
  const s = need(operand(instr, 1, sz, x.is64), 'cmpxchg source');
  const acc = need(regLoc(ACC[sz]!), 'cmpxchg accumulator');
  return (c) => {
    const dv = d.get(c);
    const dh = c.vh;
    const av = acc.get(c);
    const ah = c.vh;
    alu(c, CMP, sz, av, ah, dv, dh);
    if (c.zf) {
      const sv = s.get(c);
      d.setAt(c, sv, c.vh);
    } else acc.set(c, dv, dh);
    c.ipLo = nl;
    c.ipHi = nh;
  };
}

function buildXchg(instr: Instruction, x: Ctx): Exec {
  const { nl, nh } = x;
  const d = dest(instr, x);
  const sz = d.size;
  const s = need(operand(instr, 1, sz, x.is64), 'xchg source');
  const xadd = instr.mnemonic === Mnemonic.Xadd;
  if (s.mem) unsupported('xchg/xadd with a memory source');
  return (c) => {
    const dv = d.get(c);
    const dh = c.vh;
    const sv = s.get(c);
    const sh = c.vh;
    if (xadd) {
      const r = alu(c, ADD, sz, dv, dh, sv, sh);
      const rh = c.rh;
      d.setAt(c, r, rh);
    } else d.setAt(c, sv, sh);
    s.set(c, dv, dh);
    c.ipLo = nl;
    c.ipHi = nh;
  };
}

export const DATA_ENTRIES: readonly IsaEntry[] = [
  { names: ['mov', 'movabs', 'mov to/from cr0/cr2/cr3/cr4', 'mov to/from segment registers'], family: 'data', mnemonics: [Mnemonic.Mov], build: buildMov },
  { names: ['movzx', 'movsx', 'movsxd'], family: 'data', mnemonics: [Mnemonic.Movzx, Mnemonic.Movsx, Mnemonic.Movsxd], build: buildMovx },
  { names: ['lea'], family: 'data', mnemonics: [Mnemonic.Lea], build: buildLea },
  { names: ['cmpxchg'], family: 'atomic', lock: true, mnemonics: [Mnemonic.Cmpxchg], build: buildCmpxchg },
  { names: ['xchg', 'xadd'], family: 'atomic', lock: true, mnemonics: [Mnemonic.Xchg, Mnemonic.Xadd], build: buildXchg },
];
