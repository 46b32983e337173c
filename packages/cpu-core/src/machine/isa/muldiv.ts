import { Mnemonic } from 'iced-x86';
import type { Instruction } from 'iced-x86';
import { R, VECTOR } from '../arch.js';
import { fault } from '../bus.js';
import type { CpuState } from '../cpu.js';
import { immLoc, isImm, operand } from '../operands.js';
import { dest } from './alu.js';
import type { Ctx, Exec, IsaEntry } from './types.js';
import { need, sizeOf } from './types.js';
import { getN, MASKN, regN, setN, setRegN, signedN } from './wide.js';

/**
 * Flags after a multiply: CF and OF say whether the high half is significant. SF, ZF, AF and
 * PF are undefined in the SDM; the reference CPU (AMD EPYC, measured by tools/oracle) leaves
 * them as they were.
 */
function mulFlags(c: CpuState, overflow: boolean): void {
  c.cf = c.of = overflow ? 1 : 0;
}

/**
 * Flags after a divide, all undefined in the SDM; the reference CPU clears SF, ZF and PF,
 * sets AF and keeps CF and OF.
 */
function divFlags(c: CpuState): void {
  c.sf = c.zf = c.pf = 0;
  c.af = 1;
}

/** Stores a double-width product or quotient/remainder pair into AX or rDX:rAX. */
function setPair(c: CpuState, size: number, low: bigint, high: bigint): void {
  if (size === 1) {
    setRegN(c, R.RAX, 2, ((high & 0xffn) << 8n) | (low & 0xffn));
    return;
  }
  setRegN(c, R.RAX, size, low);
  setRegN(c, R.RDX, size, high);
}

/** The dividend: AX for bytes, rDX:rAX otherwise. */
function dividend(c: CpuState, size: number): bigint {
  if (size === 1) return regN(c, R.RAX, 2);
  return (regN(c, R.RDX, size) << BigInt(size * 8)) | regN(c, R.RAX, size);
}

function buildMulDiv(instr: Instruction, x: Ctx): Exec {
  const { nl, nh } = x;
  const src = dest(instr, x);
  const size = src.size;
  const bits = BigInt(size * 8);
  const mask = MASKN[size]!;
  const mn = instr.mnemonic;
  const signed = mn === Mnemonic.Imul || mn === Mnemonic.Idiv;
  const isDiv = mn === Mnemonic.Div || mn === Mnemonic.Idiv;
  return (c) => {
    let s = getN(c, src);
    let a = isDiv ? dividend(c, size) : regN(c, R.RAX, size);
    if (signed) {
      s = signedN(s, size);
      a = isDiv ? BigInt.asIntN(size * 16, a) : signedN(a, size);
    }
    if (isDiv) {
      if (s === 0n) fault(c, VECTOR.DE, -1, 'divide by zero');
      const q = a / s;
      const r = a % s;
      const fits = signed ? signedN(q & mask, size) === q : q <= mask;
      if (!fits) fault(c, VECTOR.DE, -1, 'quotient too large');
      setPair(c, size, q & mask, r & mask);
      divFlags(c);
    } else {
      const p = a * s;
      const low = p & mask;
      const overflow = signed ? signedN(low, size) !== p : p >> bits !== 0n;
      setPair(c, size, low, (p >> bits) & mask);
      mulFlags(c, overflow);
    }
    c.ipLo = nl;
    c.ipHi = nh;
  };
}

/** imul r, r/m and imul r, r/m, imm: the truncated signed product in the register. */
function buildImul(instr: Instruction, x: Ctx): Exec {
  if (instr.opCount === 1) return buildMulDiv(instr, x);
  const { nl, nh, is64 } = x;
  const size = sizeOf(instr, 0);
  const d = dest(instr, x);
  const a = need(operand(instr, 1, size, is64), 'imul source');
  const b = instr.opCount === 3 && isImm(instr.op2Kind) ? immLoc(instr.immediate(2), size) : d;
  return (c) => {
    const p = signedN(getN(c, a), size) * signedN(b === d ? getN(c, d) : getN(c, b), size);
    const low = p & MASKN[size]!;
    setN(c, d, low);
    mulFlags(c, signedN(low, size) !== p);
    c.ipLo = nl;
    c.ipHi = nh;
  };
}

export const MULDIV_ENTRIES: readonly IsaEntry[] = [
  { names: ['mul', 'div', 'idiv'], family: 'muldiv', mnemonics: [Mnemonic.Mul, Mnemonic.Div, Mnemonic.Idiv], build: buildMulDiv },
  { names: ['imul'], family: 'muldiv', mnemonics: [Mnemonic.Imul], build: buildImul },
];
