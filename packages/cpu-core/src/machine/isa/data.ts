import { Mnemonic, OpKind, Register } from 'iced-x86';
import type { Instruction } from 'iced-x86';
import { ADD, alu, CMP, MASK } from '../alu.js';
import { R, VECTOR } from '../arch.js';
import { fault, rd, wr } from '../bus.js';
import { fastMov, fastMovMem } from '../fast.js';
import { eaFn, memSize, operand, regLoc } from '../operands.js';
import { dest } from './alu.js';
import { movCrOrSeg } from './system.js';
import type { Ctx, Exec, IsaEntry } from './types.js';
import { need, sext, sizeOf, unsupported } from './types.js';
import { regN, setRegN } from './wide.js';

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
    const r = xadd ? alu(c, ADD, sz, dv, dh, sv, sh) : sv;
    const rh = xadd ? c.rh : sh;
    if (d.mem) {
      // The store may fault: it goes first so a fault leaves the register alone.
      d.setAt(c, r, rh);
      s.set(c, dv, dh);
    } else {
      // The SDM writes the destination last, so `xadd %rax, %rax` leaves the sum.
      s.set(c, dv, dh);
      d.set(c, r, rh);
    }
    c.ipLo = nl;
    c.ipHi = nh;
  };
}

/** cmpxchg8b/cmpxchg16b: compare rDX:rAX with memory; store rCX:rBX if equal, else load it. */
function buildCmpxchgWide(instr: Instruction, x: Ctx): Exec {
  const { nl, nh, is64 } = x;
  const wide = instr.mnemonic === Mnemonic.Cmpxchg16b;
  const half = wide ? 8 : 4;
  const ea = need(eaFn(instr, is64, false), 'cmpxchg8b/16b address');
  return (c) => {
    ea(c);
    const lo = c.eaLo;
    const hi = c.eaHi;
    if (wide && (lo & 15) !== 0) fault(c, VECTOR.GP, 0, 'cmpxchg16b operand not 16-byte aligned');
    const hiLo = (lo + half) >>> 0;
    const hiHi = hiLo < lo ? (hi + 1) >>> 0 : hi;
    const m0 = regFrom(rd(c, lo, hi, half), c.vh, half);
    const m1 = regFrom(rd(c, hiLo, hiHi, half), c.vh, half);
    const equal = m0 === regN(c, R.RAX, half) && m1 === regN(c, R.RDX, half);
    // The locked cycle always writes: the old value back when the comparison fails.
    const w0 = equal ? regN(c, R.RBX, half) : m0;
    const w1 = equal ? regN(c, R.RCX, half) : m1;
    wr(c, lo, hi, half, Number(w0 & 0xffffffffn), Number(w0 >> 32n));
    wr(c, hiLo, hiHi, half, Number(w1 & 0xffffffffn), Number(w1 >> 32n));
    c.zf = equal ? 1 : 0;
    if (!equal) {
      setRegN(c, R.RAX, half, m0);
      setRegN(c, R.RDX, half, m1);
    }
    c.ipLo = nl;
    c.ipHi = nh;
  };
}

const regFrom = (lo: number, hi: number, size: number): bigint => (size === 8 ? (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0) : BigInt(lo >>> 0));

export const DATA_ENTRIES: readonly IsaEntry[] = [
  { names: ['mov', 'movabs', 'mov to/from cr0/cr2/cr3/cr4', 'mov to/from segment registers'], family: 'data', mnemonics: [Mnemonic.Mov], build: buildMov },
  { names: ['movzx', 'movsx', 'movsxd'], family: 'data', mnemonics: [Mnemonic.Movzx, Mnemonic.Movsx, Mnemonic.Movsxd], build: buildMovx },
  { names: ['lea'], family: 'data', mnemonics: [Mnemonic.Lea], build: buildLea },
  { names: ['cmpxchg'], family: 'atomic', lock: true, mnemonics: [Mnemonic.Cmpxchg], build: buildCmpxchg },
  { names: ['xchg', 'xadd'], family: 'atomic', lock: true, mnemonics: [Mnemonic.Xchg, Mnemonic.Xadd], build: buildXchg },
  { names: ['cmpxchg8b', 'cmpxchg16b'], family: 'atomic', lock: true, mnemonics: [Mnemonic.Cmpxchg8b, Mnemonic.Cmpxchg16b], build: buildCmpxchgWide },
];
