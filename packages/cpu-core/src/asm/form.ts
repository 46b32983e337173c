import type { Instruction } from 'iced-x86';
import { AsmError } from './errors.js';
import { fitsI32, fitsI8, immValue, signedIn } from './iced.js';
import type { Arg, Bitness, BuildContext } from './iced.js';
import { describe, isMem, isReg } from './operands.js';
import type { Imm, ImmLike, Mem, Operand, Reg } from './operands.js';

/*
 * What every form builder shares: the Form record, and the operand checks that turn a
 * caller's mistake into an AsmError at the assembler call that made it.
 */

/**
 * One selected encoding: which labels it needs and how to build the iced
 * instruction once their addresses are known. Selection happens when the user
 * calls the assembler method, so operand errors point at the call site.
 */
export interface Form {
  /** Identifies the encoding within one bitness (mnemonic and operands), for the encoding cache. */
  readonly key: string;
  readonly labels: readonly string[];
  /** True when the bytes depend on where the instruction lands (rip-relative operands). */
  readonly positional: boolean;
  readonly lockable: boolean;
  readonly build: (ctx: BuildContext) => Instruction;
}

export type Src = Operand | number | bigint;

export function bad(what: string, why: string): AsmError {
  return new AsmError('KERNSIM_ASM_BAD_OPERANDS', `${what}: ${why}`);
}

export function render(mn: string, ops: readonly (Src | undefined)[]): string {
  const shown = ops.filter((o): o is Src => o !== undefined).map((o) => describe(o));
  return shown.length > 0 ? `${mn} ${shown.join(', ')}` : mn;
}

function labelsOf(ops: readonly (Src | undefined)[]): string[] {
  const out: string[] = [];
  for (const o of ops) if (typeof o === 'object' && o.kind !== 'reg' && o.label !== undefined) out.push(o.label);
  return out;
}

/** Checks a general register is usable in this mode. */
export function gpr(what: string, r: Reg, bitness: Bitness): Reg {
  if (r.class !== 'gpr') throw bad(what, `%${r.name} is not a general register here`);
  if (bitness === 32 && (r.size === 8 || r.number >= 8 || (r.size === 1 && r.number >= 4 && !r.name.endsWith('h')))) {
    throw bad(what, `%${r.name} does not exist in 32-bit mode`);
  }
  return r;
}

export function checkMem(what: string, m: Mem, bitness: Bitness): void {
  for (const r of [m.base, m.index]) {
    if (!r) continue;
    if (r.class === 'ip') {
      if (bitness === 32) throw bad(what, 'rip-relative addressing exists only in 64-bit mode');
      if (r !== m.base || m.index) throw bad(what, 'rip can only be a base register, without index');
      continue;
    }
    if (r.class !== 'gpr' || r.size !== bitness / 8) throw bad(what, `address register %${r.name} must be a ${String(bitness)}-bit general register`);
  }
  if (m.index?.number === 4) throw bad(what, `%${m.index.name} cannot be an index register`);
}

interface Sized {
  readonly size: number;
}

/** Operand size of a register/memory pair, or an error if they disagree or none is stated. */
export function sizeOf(what: string, ...ops: (Reg | Mem | undefined)[]): number {
  let size = 0;
  for (const o of ops) {
    if (!o) continue;
    const s = (o as Sized).size;
    if (s === 0) continue;
    if (size !== 0 && s !== size) throw bad(what, `operand sizes differ (${String(size * 8)} and ${String(s * 8)} bits)`);
    size = s;
  }
  if (size === 0) throw bad(what, 'operand size is ambiguous: state it with byte/word/dword/qword');
  return size;
}

/** The accumulator's name in iced code names, by operand size in bytes. */
export const ACC = ['', 'AL', 'AX', '', 'EAX', '', '', '', 'RAX'];

export function arg(x: Reg | Mem): Arg {
  return x.kind === 'reg' ? { r: x } : { m: x };
}

/** Resolves an immediate for an operand of `size` bytes whose encoded field is `field` bytes (sign-extended). */
export function immFor(what: string, i: Imm, ctx: BuildContext, size: number, field: number): number {
  const v = immValue(i, ctx);
  const s = signedIn(v, size);
  if (s === undefined) throw new AsmError('KERNSIM_ASM_RANGE', `${what}: immediate ${v.toString()} does not fit ${String(size * 8)} bits`);
  if (field < size) {
    const fits = field === 1 ? fitsI8(s) : fitsI32(s);
    if (!fits) throw new AsmError('KERNSIM_ASM_RANGE', `${what}: immediate ${v.toString()} does not fit a sign-extended ${String(field * 8)}-bit field`);
  }
  return Number(s);
}

export function form(key: string, ops: readonly (Src | undefined)[], lockable: boolean, build: (ctx: BuildContext) => Instruction): Form {
  const positional = ops.some((o) => isMem(o) && o.base?.class === 'ip');
  return { key, labels: labelsOf(ops), positional, lockable, build };
}

export function operandRM(what: string, x: Src, bitness: Bitness): Reg | Mem {
  if (isReg(x)) return gpr(what, x, bitness);
  if (isMem(x)) {
    checkMem(what, x, bitness);
    return x;
  }
  throw bad(what, 'expected a register or memory operand');
}

export function isImmLike(x: Src): x is ImmLike {
  return typeof x !== 'object' || x.kind === 'imm';
}
