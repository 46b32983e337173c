import { Code, Mnemonic, Register } from 'iced-x86';
import type { Instruction } from 'iced-x86';
import { R } from '../arch.js';
import { rd } from '../bus.js';
import type { CpuState } from '../cpu.js';
import { operand } from '../operands.js';
import type { Ctx, Exec, IsaEntry } from './types.js';
import { need, sizeOf } from './types.js';
import { getN, regN, setN, setRegN, signedN, swapBytes } from './wide.js';

/** cbw/cwde/cdqe: sign-extend the low half of the accumulator into all of it (width from the code). */
const WIDEN = new Map<Code, number>([
  [Code.Cbw, 2],
  [Code.Cwde, 4],
  [Code.Cdqe, 8],
  [Code.Cwd, 2],
  [Code.Cdq, 4],
  [Code.Cqo, 8],
]);

function buildWiden(instr: Instruction, { nl, nh }: Ctx): Exec {
  const size = need(WIDEN.get(instr.code), 'sign-extension form');
  const intoDx = instr.mnemonic === Mnemonic.Cwd || instr.mnemonic === Mnemonic.Cdq || instr.mnemonic === Mnemonic.Cqo;
  return (c) => {
    if (intoDx) {
      const neg = signedN(regN(c, R.RAX, size), size) < 0n;
      setRegN(c, R.RDX, size, neg ? -1n : 0n);
    } else setRegN(c, R.RAX, size, BigInt.asUintN(size * 8, signedN(regN(c, R.RAX, size / 2), size / 2)));
    c.ipLo = nl;
    c.ipHi = nh;
  };
}

function buildLahfSahf(instr: Instruction, { nl, nh }: Ctx): Exec {
  const load = instr.mnemonic === Mnemonic.Lahf;
  return (c) => {
    if (load) c.lo[R.RAX] = (c.lo[R.RAX]! & 0xffff00ff) | ((c.rflags() & 0xd5) | 2) << 8;
    else {
      const ah = (c.lo[R.RAX]! >>> 8) & 0xff;
      c.setRflags((c.rflags() & ~0xd5) | (ah & 0xd5));
    }
    c.ipLo = nl;
    c.ipHi = nh;
  };
}

/** xlat: AL = [rBX + AL] (with the base of an %fs/%gs override). */
function buildXlat(instr: Instruction, { nl, nh, is64 }: Ctx): Exec {
  const addr32 = !is64 || instr.memoryBase === Register.EBX;
  const seg = instr.segmentPrefix;
  return (c) => {
    let l = c.lo[R.RBX]! + (c.lo[R.RAX]! & 0xff);
    let h = addr32 ? 0 : c.hi[R.RBX]!;
    if (seg === Register.GS || seg === Register.FS) {
      l += seg === Register.GS ? c.gsLo : c.fsLo;
      h += seg === Register.GS ? c.gsHi : c.fsHi;
    }
    const lo = l >>> 0;
    const hi = is64 ? (h + (l > 0xffffffff ? 1 : 0)) >>> 0 : 0;
    c.lo[R.RAX] = (c.lo[R.RAX]! & 0xffffff00) | rd(c, lo, hi, 1);
    c.ipLo = nl;
    c.ipHi = nh;
  };
}

/** movbe (byte-swapping load/store) and movnti (a non-temporal store, a plain store here). */
function buildMovStore(instr: Instruction, x: Ctx): Exec {
  const { nl, nh } = x;
  const size = sizeOf(instr, 0) || sizeOf(instr, 1);
  const d = need(operand(instr, 0, size, x.is64), 'movbe/movnti destination');
  const s = need(operand(instr, 1, size, x.is64), 'movbe/movnti source');
  const swap = instr.mnemonic === Mnemonic.Movbe;
  return (c: CpuState) => {
    const v = getN(c, s);
    setN(c, d, swap ? swapBytes(v, size) : v);
    c.ipLo = nl;
    c.ipHi = nh;
  };
}

export const CONVERT_ENTRIES: readonly IsaEntry[] = [
  { names: ['cbw', 'cwde', 'cdqe', 'cwd', 'cdq', 'cqo'], family: 'convert', mnemonics: [Mnemonic.Cbw, Mnemonic.Cwde, Mnemonic.Cdqe, Mnemonic.Cwd, Mnemonic.Cdq, Mnemonic.Cqo], build: buildWiden },
  { names: ['lahf', 'sahf'], family: 'flags', mnemonics: [Mnemonic.Lahf, Mnemonic.Sahf], build: buildLahfSahf },
  { names: ['xlat'], family: 'data', mnemonics: [Mnemonic.Xlatb], build: buildXlat },
  { names: ['movbe', 'movnti'], family: 'data', mnemonics: [Mnemonic.Movbe, Mnemonic.Movnti], build: buildMovStore },
];
