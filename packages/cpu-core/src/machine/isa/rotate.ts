import { Mnemonic } from 'iced-x86';
import type { Instruction } from 'iced-x86';
import { PARITY, SHIFT_AF } from '../alu.js';
import { operand } from '../operands.js';
import { countLoc, dest } from './alu.js';
import type { Ctx, Exec, IsaEntry } from './types.js';
import { need } from './types.js';
import { getN, MASKN, setN } from './wide.js';

/** rcl/rcr: a rotate through CF over size*8+1 bits (counts are taken modulo 9 and 17 for bytes and words). */
function buildRcx(instr: Instruction, x: Ctx): Exec {
  const { nl, nh } = x;
  const d = dest(instr, x);
  const size = d.size;
  const bits = size * 8;
  const cnt = countLoc(instr, 1);
  const left = instr.mnemonic === Mnemonic.Rcl;
  const wmask = (1n << BigInt(bits + 1)) - 1n;
  return (c) => {
    const v = getN(c, d);
    const masked = cnt.get(c) & (size === 8 ? 63 : 31);
    if (masked !== 0) {
      const n = BigInt(size < 4 ? masked % (bits + 1) : masked);
      const wide = (BigInt(c.cf) << BigInt(bits)) | v;
      const w = left ? ((wide << n) | (wide >> (BigInt(bits + 1) - n))) & wmask : ((wide >> n) | (wide << (BigInt(bits + 1) - n))) & wmask;
      const r = w & MASKN[size]!;
      const msb = Number(r >> BigInt(bits - 1));
      c.cf = Number(w >> BigInt(bits));
      c.of = left ? msb ^ c.cf : msb ^ Number((r >> BigInt(bits - 2)) & 1n);
      setN(c, d, r, true);
    } else setN(c, d, v, true);
    c.ipLo = nl;
    c.ipHi = nh;
  };
}

/** shld/shrd: shift the destination, filling from the source register. */
function buildShxd(instr: Instruction, x: Ctx): Exec {
  const { nl, nh } = x;
  const d = dest(instr, x);
  const size = d.size;
  const bits = BigInt(size * 8);
  const s = need(operand(instr, 1, size, x.is64), 'shld/shrd source');
  const cnt = countLoc(instr, 2);
  const left = instr.mnemonic === Mnemonic.Shld;
  const mask = MASKN[size]!;
  return (c) => {
    const v = getN(c, d);
    const src = getN(c, s);
    const n = BigInt(cnt.get(c) & (size === 8 ? 63 : 31));
    if (n === 0n) {
      setN(c, d, v, true);
    } else {
      // Counts above 16 on a 16-bit operand are undefined in the SDM; the reference CPU shifts
      // through dest:src:src (shld) and src:src:dest (shrd).
      const wide = left ? (v << (2n * bits)) | (src << bits) | src : (src << (2n * bits)) | (src << bits) | v;
      const r = left ? (wide >> (2n * bits - n)) & mask : (wide >> n) & mask;
      // Past the operand width (16-bit only) the reference CPU clears CF.
      c.cf = n > bits ? 0 : Number(left ? (wide >> (3n * bits - n)) & 1n : (wide >> (n - 1n)) & 1n);
      const sign = bits - 1n;
      // OF is defined for a count of 1; the reference CPU computes it the same way for any count.
      const msb = Number((r >> sign) & 1n);
      // 16-bit shld by 16 or more: the reference CPU copies CF to OF.
      c.of = left ? (n >= bits ? c.cf : msb ^ c.cf) : msb ^ Number((r >> (sign - 1n)) & 1n);
      c.sf = Number((r >> sign) & 1n);
      c.zf = r === 0n ? 1 : 0;
      c.pf = PARITY[Number(r & 0xffn)]!;
      c.af = SHIFT_AF;
      setN(c, d, r, true);
    }
    c.ipLo = nl;
    c.ipHi = nh;
  };
}

export const ROTATE_ENTRIES: readonly IsaEntry[] = [
  { names: ['rcl', 'rcr'], family: 'shift', mnemonics: [Mnemonic.Rcl, Mnemonic.Rcr], build: buildRcx },
  { names: ['shld', 'shrd'], family: 'shift', mnemonics: [Mnemonic.Shld, Mnemonic.Shrd], build: buildShxd },
];
