import { Mnemonic, OpKind, Register } from 'iced-x86';
import type { Instruction } from 'iced-x86';
import { alu, CMP } from '../alu.js';
import { R } from '../arch.js';
import { rd, wr } from '../bus.js';
import type { CpuState } from '../cpu.js';
import { FL_DF } from '../cpu.js';
import type { Ctx, Exec, IsaEntry } from './types.js';
import { unsupported } from './types.js';
import { setRegLoHi } from './wide.js';

const MOVS = [Mnemonic.Movsb, Mnemonic.Movsw, Mnemonic.Movsd, Mnemonic.Movsq];
const STOS = [Mnemonic.Stosb, Mnemonic.Stosw, Mnemonic.Stosd, Mnemonic.Stosq];
const LODS = [Mnemonic.Lodsb, Mnemonic.Lodsw, Mnemonic.Lodsd, Mnemonic.Lodsq];
const SCAS = [Mnemonic.Scasb, Mnemonic.Scasw, Mnemonic.Scasd, Mnemonic.Scasq];
const CMPS = [Mnemonic.Cmpsb, Mnemonic.Cmpsw, Mnemonic.Cmpsd, Mnemonic.Cmpsq];
const WIDTH = [1, 2, 4, 8];
const MOVE = 0;
const STORE = 1;
const LOAD = 2;
const SCAN = 3;
const COMPARE = 4;
const KINDS = [MOVS, STOS, LODS, SCAS, CMPS];

/** Adds `delta` to a string index register, wrapping at the address size. */
function step(c: CpuState, r: number, delta: number, addr32: boolean): void {
  const n = c.lo[r]! + delta;
  c.lo[r] = n >>> 0;
  if (addr32) c.hi[r] = 0;
  else if (n > 0xffffffff) c.hi[r] = (c.hi[r]! + 1) >>> 0;
  else if (n < 0) c.hi[r] = (c.hi[r]! - 1) >>> 0;
}

/** Address size of a string instruction, from its implicit memory operands (16-bit addressing is not modelled). */
function addressSize(instr: Instruction): number {
  for (let i = 0; i < instr.opCount; i++) {
    const k = instr.opKind(i);
    if (k === OpKind.MemorySegRSI || k === OpKind.MemorySegRDI || k === OpKind.MemoryESRDI) return 8;
    if (k === OpKind.MemorySegESI || k === OpKind.MemorySegEDI || k === OpKind.MemoryESEDI) return 4;
  }
  return unsupported('16-bit string addressing');
}

/** Reads `size` bytes at rSI (with the source segment's base for %fs/%gs overrides). */
function readSource(c: CpuState, seg: Register, size: number, addr32: boolean): number {
  let lo = c.lo[R.RSI]!;
  let hi = addr32 ? 0 : c.hi[R.RSI]!;
  if (seg === Register.FS || seg === Register.GS) {
    const bl = seg === Register.GS ? c.gsLo : c.fsLo;
    const bh = seg === Register.GS ? c.gsHi : c.fsHi;
    const l = lo + bl;
    lo = l >>> 0;
    hi = c.m.is64 ? (hi + bh + (l > 0xffffffff ? 1 : 0)) >>> 0 : 0;
  }
  return rd(c, lo, hi, size);
}

function accumulator(c: CpuState, size: number): number {
  return size === 1 ? c.lo[R.RAX]! & 0xff : size === 2 ? c.lo[R.RAX]! & 0xffff : c.lo[R.RAX]!;
}

/** One iteration of the string operation `kind`, moving the index registers by `delta`. */
function once(c: CpuState, kind: number, size: number, addr32: boolean, seg: Register, delta: number): void {
  const dh = addr32 ? 0 : c.hi[R.RDI]!;
  if (kind === MOVE) {
    const v = readSource(c, seg, size, addr32);
    wr(c, c.lo[R.RDI]!, dh, size, v, size === 8 ? c.vh : 0);
  } else if (kind === STORE) wr(c, c.lo[R.RDI]!, dh, size, accumulator(c, size), size === 8 ? c.hi[R.RAX]! : 0);
  else if (kind === LOAD) {
    const v = readSource(c, seg, size, addr32);
    setRegLoHi(c, R.RAX, size, v, size === 8 ? c.vh : 0);
  } else if (kind === SCAN) {
    const v = rd(c, c.lo[R.RDI]!, dh, size);
    alu(c, CMP, size, accumulator(c, size), size === 8 ? c.hi[R.RAX]! : 0, v, size === 8 ? c.vh : 0);
  } else {
    const a = readSource(c, seg, size, addr32);
    const ah = size === 8 ? c.vh : 0;
    const b = rd(c, c.lo[R.RDI]!, dh, size);
    alu(c, CMP, size, a, ah, b, size === 8 ? c.vh : 0);
  }
  if (kind === MOVE || kind === LOAD || kind === COMPARE) step(c, R.RSI, delta, addr32);
  if (kind !== LOAD) step(c, R.RDI, delta, addr32);
}

function buildString(instr: Instruction, { nl, nh }: Ctx): Exec {
  // movsd/cmpsd with xmm operands share the mnemonic.
  if (!instr.isStringInstruction) unsupported('SSE form of a string mnemonic');
  const mn = instr.mnemonic;
  const kind = KINDS.findIndex((k) => k.includes(mn));
  const size = WIDTH[KINDS[kind]!.indexOf(mn)]!;
  const addr32 = addressSize(instr) === 4;
  const seg = instr.segmentPrefix;
  const compares = kind === SCAN || kind === COMPARE;
  // F2 on movs/stos/lods repeats like F3 (hardware ignores the Z condition there).
  const rep = instr.hasRepPrefix || instr.hasRepePrefix || instr.hasRepnePrefix;
  const untilZ = compares && instr.hasRepnePrefix ? 1 : compares ? 0 : -1;
  return (c) => {
    const delta = (c.fl & FL_DF) !== 0 ? -size : size;
    for (;;) {
      if (rep && c.lo[R.RCX] === 0 && (addr32 || c.hi[R.RCX] === 0)) break;
      once(c, kind, size, addr32, seg, delta);
      if (!rep) break;
      step(c, R.RCX, -1, addr32);
      c.cycles += c.m.timing.repIteration;
      if (untilZ >= 0 && c.zf === untilZ) break;
    }
    c.ipLo = nl;
    c.ipHi = nh;
  };
}

export const STRING_ENTRIES: readonly IsaEntry[] = [
  { names: ['rep movs'], family: 'string', mnemonics: MOVS, build: buildString },
  { names: ['rep stos'], family: 'string', mnemonics: STOS, build: buildString },
  { names: ['rep lods'], family: 'string', mnemonics: LODS, build: buildString },
  { names: ['repe/repne scas'], family: 'string', mnemonics: SCAS, build: buildString },
  { names: ['repe/repne cmps'], family: 'string', mnemonics: CMPS, build: buildString },
];
