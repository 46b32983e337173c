import { Mnemonic, OpKind, Register } from 'iced-x86';
import type { Instruction } from 'iced-x86';
import { PARITY } from '../alu.js';
import type { CpuState } from '../cpu.js';
import { operand, regInfo, regLoc } from '../operands.js';
import type { Loc } from '../operands.js';
import { dest } from './alu.js';
import type { Ctx, Exec, IsaEntry } from './types.js';
import { need, sizeOf } from './types.js';
import { getN, MASKN, setN, setSzp, swapBytes } from './wide.js';

const BT_KIND = new Map<Mnemonic, number>([
  [Mnemonic.Bt, 0],
  [Mnemonic.Bts, 1],
  [Mnemonic.Btr, 2],
  [Mnemonic.Btc, 3],
]);

/** Moves the address computed last by `size`-wide units so it holds bit `off` (a signed offset), wrapping at the address size. */
function seekBit(c: CpuState, off: bigint, size: number, wide: boolean): void {
  const bytes = (off >> BigInt(Math.log2(size * 8))) * BigInt(size);
  const a = ((BigInt(c.eaHi) << 32n) | BigInt(c.eaLo)) + bytes;
  c.eaLo = Number(a & 0xffffffffn);
  c.eaHi = wide ? Number((a >> 32n) & 0xffffffffn) : 0;
}

/** Whether the memory operand uses 64-bit addressing. */
function wideAddress(instr: Instruction, is64: boolean): boolean {
  const narrow = (r: Register): boolean => r === Register.EIP || regInfo(r)?.size === 4;
  // An absolute address is 32-bit under a 67 prefix: iced then reports a 4-byte displacement.
  if (instr.memoryBase === Register.None && instr.memoryIndex === Register.None) return is64 && instr.memoryDisplSize === 8;
  return is64 && !narrow(instr.memoryBase) && !narrow(instr.memoryIndex);
}

function buildBt(instr: Instruction, x: Ctx): Exec {
  const { nl, nh, is64 } = x;
  const kind = BT_KIND.get(instr.mnemonic)!;
  const d = dest(instr, x);
  const size = d.size;
  const bits = BigInt(size * 8);
  const s = need(operand(instr, 1, instr.op1Kind === OpKind.Register ? size : 1, is64), 'bit offset');
  // A register offset reaches outside a memory operand (signed); an immediate one is taken modulo the width.
  const farReach = d.mem && instr.op1Kind === OpKind.Register;
  const wide = wideAddress(instr, is64);
  return (c) => {
    let off = getN(c, s);
    if (farReach) off = BigInt.asIntN(size * 8, off);
    d.ea(c);
    if (farReach) seekBit(c, off, size, wide);
    const v = d.mem ? getN(c, d, true) : getN(c, d);
    const bit = 1n << (((off % bits) + bits) % bits);
    c.cf = (v & bit) !== 0n ? 1 : 0;
    if (kind !== 0) setN(c, d, kind === 1 ? v | bit : kind === 2 ? v & ~bit : v ^ bit, true);
    c.ipLo = nl;
    c.ipHi = nh;
  };
}

function buildBitScan(instr: Instruction, x: Ctx): Exec {
  const { nl, nh } = x;
  const d = need(regLoc(instr.op0Register), 'bit scan destination');
  const size = d.size;
  const s = need(operand(instr, 1, size, x.is64), 'bit scan source');
  const mn = instr.mnemonic;
  return (c) => {
    const v = getN(c, s);
    const w = size * 8;
    const top = v === 0n ? -1 : v.toString(2).length - 1;
    const low = v === 0n ? -1 : (v & -v).toString(2).length - 1;
    if (mn === Mnemonic.Popcnt) {
      let n = 0;
      for (let t = v; t !== 0n; t &= t - 1n) n++;
      setN(c, d, BigInt(n));
      c.cf = c.of = c.sf = c.af = c.pf = 0;
      c.zf = v === 0n ? 1 : 0;
    } else if (mn === Mnemonic.Lzcnt || mn === Mnemonic.Tzcnt) {
      const r = v === 0n ? w : mn === Mnemonic.Lzcnt ? w - 1 - top : low;
      setN(c, d, BigInt(r));
      c.cf = v === 0n ? 1 : 0;
      c.zf = r === 0 ? 1 : 0;
      // Undefined in the SDM: the reference CPU clears SF, AF and PF and keeps OF.
      c.sf = c.af = c.pf = 0;
    } else {
      // bsf/bsr: a zero source sets ZF and leaves the destination as it was. The other flags
      // are undefined; the reference CPU clears CF, OF, SF and AF and sets PF from the index found (0 for a zero source).
      c.zf = v === 0n ? 1 : 0;
      const r = v === 0n ? 0n : BigInt(mn === Mnemonic.Bsr ? top : low);
      if (v !== 0n) setN(c, d, r);
      c.cf = c.of = c.sf = c.af = 0;
      c.pf = PARITY[Number(r & 0xffn)]!;
    }
    c.ipLo = nl;
    c.ipHi = nh;
  };
}

function buildBswap(instr: Instruction, x: Ctx): Exec {
  const { nl, nh } = x;
  const d = need(regLoc(instr.op0Register), 'bswap register');
  return (c) => {
    // bswap of a 16-bit register is undefined in the SDM; like the reference CPU it clears the word.
    setN(c, d, d.size === 2 ? 0n : swapBytes(getN(c, d), d.size));
    c.ipLo = nl;
    c.ipHi = nh;
  };
}

/** andn and the BMI2 shifts: three operands, VEX-encoded. */
function buildBmi(instr: Instruction, x: Ctx): Exec {
  const { nl, nh, is64 } = x;
  const d = need(regLoc(instr.op0Register), 'BMI destination');
  const size = d.size;
  const a = need(operand(instr, 1, size, is64), 'BMI first source');
  const b = need(operand(instr, 2, size, is64), 'BMI second source');
  const mn = instr.mnemonic;
  const mask = MASKN[size]!;
  return (c) => {
    const va = getN(c, a);
    const vb = getN(c, b);
    let r: bigint;
    if (mn === Mnemonic.Andn) {
      r = ~va & vb & mask;
      setSzp(c, r, size);
      // AF and PF are undefined; the reference CPU clears AF and sets PF from the result.
      c.cf = c.of = c.af = 0;
    } else {
      const n = vb & BigInt(size * 8 - 1);
      if (mn === Mnemonic.Shlx) r = (va << n) & mask;
      else if (mn === Mnemonic.Shrx) r = va >> n;
      else r = BigInt.asUintN(size * 8, BigInt.asIntN(size * 8, va) >> n);
    }
    setN(c, d, r);
    c.ipLo = nl;
    c.ipHi = nh;
  };
}

const CRC32C = new Uint32Array(256);
for (let i = 0; i < 256; i++) {
  let r = i;
  for (let k = 0; k < 8; k++) r = r & 1 ? (r >>> 1) ^ 0x82f63b78 : r >>> 1;
  CRC32C[i] = r >>> 0;
}

function buildCrc32(instr: Instruction, x: Ctx): Exec {
  const { nl, nh } = x;
  const d = need(regLoc(instr.op0Register), 'crc32 destination');
  const size = sizeOf(instr, 1);
  const s: Loc = need(operand(instr, 1, size, x.is64), 'crc32 source');
  return (c) => {
    const v = getN(c, s);
    let crc = Number(getN(c, d) & 0xffffffffn);
    for (let i = 0; i < size; i++) crc = (CRC32C[(crc ^ Number((v >> BigInt(i * 8)) & 0xffn)) & 0xff]! ^ (crc >>> 8)) >>> 0;
    setN(c, d, BigInt(crc));
    c.ipLo = nl;
    c.ipHi = nh;
  };
}

export const BITS_ENTRIES: readonly IsaEntry[] = [
  { names: ['bt'], family: 'bits', mnemonics: [Mnemonic.Bt], build: buildBt },
  { names: ['bts', 'btr', 'btc'], family: 'bits', lock: true, mnemonics: [Mnemonic.Bts, Mnemonic.Btr, Mnemonic.Btc], build: buildBt },
  { names: ['bsf', 'bsr', 'popcnt', 'lzcnt', 'tzcnt'], family: 'bits', mnemonics: [Mnemonic.Bsf, Mnemonic.Bsr, Mnemonic.Popcnt, Mnemonic.Lzcnt, Mnemonic.Tzcnt], build: buildBitScan },
  { names: ['bswap'], family: 'bits', mnemonics: [Mnemonic.Bswap], build: buildBswap },
  { names: ['andn', 'shlx', 'sarx', 'shrx'], family: 'bits', mnemonics: [Mnemonic.Andn, Mnemonic.Shlx, Mnemonic.Sarx, Mnemonic.Shrx], build: buildBmi },
  { names: ['crc32'], family: 'bits', mnemonics: [Mnemonic.Crc32], build: buildCrc32 },
];
