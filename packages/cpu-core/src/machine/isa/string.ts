import { Mnemonic, OpKind } from 'iced-x86';
import type { Instruction } from 'iced-x86';
import { R } from '../arch.js';
import { rd, wr } from '../bus.js';
import type { CpuState } from '../cpu.js';
import { FL_DF } from '../cpu.js';
import type { Ctx, Exec, IsaEntry } from './types.js';
import { unsupported } from './types.js';

const MOVS = [Mnemonic.Movsb, Mnemonic.Movsw, Mnemonic.Movsd, Mnemonic.Movsq];
const STOS = [Mnemonic.Stosb, Mnemonic.Stosw, Mnemonic.Stosd, Mnemonic.Stosq];
const WIDTH = [1, 2, 4, 8];

/** Adds `delta` to a string index register, wrapping at the address size. */
function step(c: CpuState, r: number, delta: number, addr32: boolean): void {
  const n = c.lo[r]! + delta;
  c.lo[r] = n >>> 0;
  if (addr32) c.hi[r] = 0;
  else if (n > 0xffffffff) c.hi[r] = (c.hi[r]! + 1) >>> 0;
  else if (n < 0) c.hi[r] = (c.hi[r]! - 1) >>> 0;
}

function buildString(instr: Instruction, { nl, nh, is64 }: Ctx): Exec {
  // movsd/cmpsd with xmm operands share the mnemonic.
  if (!instr.isStringInstruction) unsupported('SSE form of a string mnemonic');
  const mn = instr.mnemonic;
  const movs = MOVS.includes(mn);
  const size = WIDTH[Math.max(MOVS.indexOf(mn), STOS.indexOf(mn))]!;
  const rep = instr.hasRepPrefix || instr.hasRepePrefix;
  const addr32 = !is64 || instr.opKind(0) === OpKind.MemoryESEDI;
  return (c) => {
    const delta = (c.fl & FL_DF) !== 0 ? -size : size;
    for (;;) {
      if (rep && c.lo[R.RCX] === 0 && (addr32 || c.hi[R.RCX] === 0)) break;
      let vlo: number;
      let vhi: number;
      if (movs) {
        vlo = rd(c, c.lo[R.RSI]!, addr32 ? 0 : c.hi[R.RSI]!, size);
        vhi = size === 8 ? c.vh : 0;
      } else {
        vlo = size === 1 ? c.lo[R.RAX]! & 0xff : size === 2 ? c.lo[R.RAX]! & 0xffff : c.lo[R.RAX]!;
        vhi = size === 8 ? c.hi[R.RAX]! : 0;
      }
      wr(c, c.lo[R.RDI]!, addr32 ? 0 : c.hi[R.RDI]!, size, vlo, vhi);
      if (movs) step(c, R.RSI, delta, addr32);
      step(c, R.RDI, delta, addr32);
      if (!rep) break;
      step(c, R.RCX, -1, addr32);
      c.cycles += c.m.cpi;
    }
    c.ipLo = nl;
    c.ipHi = nh;
  };
}

export const STRING_ENTRIES: readonly IsaEntry[] = [
  { names: ['rep movs'], family: 'string', mnemonics: MOVS, build: buildString },
  { names: ['rep stos'], family: 'string', mnemonics: STOS, build: buildString },
];
