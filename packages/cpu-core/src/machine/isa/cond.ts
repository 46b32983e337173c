import { Code, Mnemonic } from 'iced-x86';
import type { Instruction } from 'iced-x86';
import { cond } from '../alu.js';
import { R } from '../arch.js';
import { operand, regInfo, regLoc } from '../operands.js';
import { dest } from './alu.js';
import { target } from './control.js';
import type { Ctx, Exec, IsaEntry } from './types.js';
import { need } from './types.js';
import { setRegLoHi } from './wide.js';

/** Mnemonics of a condition-code family in the order of the x86 `cc` field. */
const ccFamily = (prefix: string): Mnemonic[] =>
  ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'].map((cc) => {
    const name = `${prefix}${cc}`;
    return (Mnemonic as unknown as Record<string, Mnemonic>)[name[0]!.toUpperCase() + name.slice(1)]!;
  });

const SETCC = ccFamily('set');
const CMOVCC = ccFamily('cmov');

function buildSetcc(instr: Instruction, x: Ctx): Exec {
  const { nl, nh } = x;
  const cc = SETCC.indexOf(instr.mnemonic);
  const d = dest(instr, x);
  return (c) => {
    d.set(c, cond(c, cc) ? 1 : 0, 0);
    c.ipLo = nl;
    c.ipHi = nh;
  };
}

function buildCmovcc(instr: Instruction, x: Ctx): Exec {
  const { nl, nh } = x;
  const cc = CMOVCC.indexOf(instr.mnemonic);
  const d = need(regLoc(instr.op0Register), 'cmov destination');
  const s = need(operand(instr, 1, d.size, x.is64), 'cmov source');
  const zeroUpper = d.size === 4;
  const di = need(regInfo(instr.op0Register), 'cmov destination').idx;
  return (c) => {
    // The source is read (and may fault) whatever the condition; a 32-bit destination is
    // zero-extended even when the move does not happen.
    const v = s.get(c);
    const vh = c.vh;
    if (cond(c, cc)) d.set(c, v, vh);
    else if (zeroUpper) c.hi[di] = 0;
    c.ipLo = nl;
    c.ipHi = nh;
  };
}

/** Width of the count register a loop/jrcxz form uses (from the address size). */
function counter(instr: Instruction): number {
  if (instr.mnemonic === Mnemonic.Jrcxz) return 8;
  if (instr.mnemonic === Mnemonic.Jecxz) return 4;
  if (instr.mnemonic === Mnemonic.Jcxz) return 2;
  const name = Code[instr.code];
  if (name.endsWith('_RCX')) return 8;
  if (name.endsWith('_ECX')) return 4;
  return 2;
}

function buildLoop(instr: Instruction, { nl, nh, is64 }: Ctx): Exec {
  const [tl, th] = target(instr, is64);
  const width = counter(instr);
  const mn = instr.mnemonic;
  const test = mn === Mnemonic.Jrcxz || mn === Mnemonic.Jecxz || mn === Mnemonic.Jcxz;
  return (c) => {
    let lo = c.lo[R.RCX]!;
    let hi = width === 8 ? c.hi[R.RCX]! : 0;
    if (width === 2) lo &= 0xffff;
    let taken: boolean;
    if (test) taken = (lo | hi) === 0;
    else {
      // loop decrements the counter at the address size without touching the flags.
      if (lo === 0) hi = (hi - 1) >>> 0;
      lo = width === 2 ? (lo - 1) & 0xffff : (lo - 1) >>> 0;
      setRegLoHi(c, R.RCX, width, lo, hi);
      const nz = (lo | (width === 8 ? hi : 0)) !== 0;
      taken = mn === Mnemonic.Loope ? nz && c.zf !== 0 : mn === Mnemonic.Loopne ? nz && c.zf === 0 : nz;
    }
    c.ipLo = taken ? tl : nl;
    c.ipHi = taken ? th : nh;
  };
}

export const COND_ENTRIES: readonly IsaEntry[] = [
  { names: ['setcc'], family: 'cond', mnemonics: SETCC, build: buildSetcc },
  { names: ['cmovcc'], family: 'cond', mnemonics: CMOVCC, build: buildCmovcc },
  { names: ['loop', 'loope', 'loopne', 'jrcxz'], family: 'control', mnemonics: [Mnemonic.Loop, Mnemonic.Loope, Mnemonic.Loopne, Mnemonic.Jrcxz, Mnemonic.Jecxz, Mnemonic.Jcxz], build: buildLoop },
];
