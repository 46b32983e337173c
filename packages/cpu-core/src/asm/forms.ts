import { Instruction, Register, RepPrefixKind } from 'iced-x86';
import { AsmError } from './errors.js';
import { bitsOf, code, create, fitsI32, fitsI8, immValue, signedIn } from './iced.js';
import type { Arg, Bitness, BuildContext } from './iced.js';
import { describe, isMem, isReg, reg, toImm } from './operands.js';
import type { Imm, ImmLike, Mem, Operand, Reg } from './operands.js';

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

function render(mn: string, ops: readonly (Src | undefined)[]): string {
  const shown = ops.filter((o): o is Src => o !== undefined).map((o) => describe(o));
  return shown.length > 0 ? `${mn} ${shown.join(', ')}` : mn;
}

function labelsOf(ops: readonly (Src | undefined)[]): string[] {
  const out: string[] = [];
  for (const o of ops) if (typeof o === 'object' && o.kind !== 'reg' && o.label !== undefined) out.push(o.label);
  return out;
}

/** Checks a general register is usable in this mode. */
function gpr(what: string, r: Reg, bitness: Bitness): Reg {
  if (r.class !== 'gpr') throw bad(what, `%${r.name} is not a general register here`);
  if (bitness === 32 && (r.size === 8 || r.number >= 8 || (r.size === 1 && r.number >= 4 && !r.name.endsWith('h')))) {
    throw bad(what, `%${r.name} does not exist in 32-bit mode`);
  }
  return r;
}

function checkMem(what: string, m: Mem, bitness: Bitness): void {
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
function sizeOf(what: string, ...ops: (Reg | Mem | undefined)[]): number {
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

const ACC = ['', 'AL', 'AX', '', 'EAX', '', '', '', 'RAX'];

function arg(x: Reg | Mem): Arg {
  return x.kind === 'reg' ? { r: x } : { m: x };
}

/** Resolves an immediate for an operand of `size` bytes whose encoded field is `field` bytes (sign-extended). */
function immFor(what: string, i: Imm, ctx: BuildContext, size: number, field: number): number {
  const v = immValue(i, ctx);
  const s = signedIn(v, size);
  if (s === undefined) throw new AsmError('KERNSIM_ASM_RANGE', `${what}: immediate ${v.toString()} does not fit ${String(size * 8)} bits`);
  if (field < size) {
    const fits = field === 1 ? fitsI8(s) : fitsI32(s);
    if (!fits) throw new AsmError('KERNSIM_ASM_RANGE', `${what}: immediate ${v.toString()} does not fit a sign-extended ${String(field * 8)}-bit field`);
  }
  return Number(s);
}

function form(key: string, ops: readonly (Src | undefined)[], lockable: boolean, build: (ctx: BuildContext) => Instruction): Form {
  const positional = ops.some((o) => isMem(o) && o.base?.class === 'ip');
  return { key, labels: labelsOf(ops), positional, lockable, build };
}

function operandRM(what: string, x: Src, bitness: Bitness): Reg | Mem {
  if (isReg(x)) return gpr(what, x, bitness);
  if (isMem(x)) {
    checkMem(what, x, bitness);
    return x;
  }
  throw bad(what, 'expected a register or memory operand');
}

export type AluOp = 'Add' | 'Adc' | 'Or' | 'And' | 'Sub' | 'Sbb' | 'Xor' | 'Cmp';

/** add/adc/or/and/sub/sbb/xor/cmp, choosing the shortest encoding gas would (accumulator and imm8 forms). */
export function alu(op: AluOp, dst: Src, src: Src, bitness: Bitness): Form {
  const what = render(op.toLowerCase(), [dst, src]);
  const d = operandRM(what, dst, bitness);
  if (isReg(src) || isMem(src)) {
    const s = operandRM(what, src, bitness);
    const n = bitsOf(sizeOf(what, d, s));
    if (isMem(d) && isMem(s)) throw bad(what, 'x86 cannot take two memory operands');
    const c = isMem(s) ? code(`${op}_r${n}_rm${n}`) : code(`${op}_rm${n}_r${n}`);
    return form(what, [d, s], isMem(d), (ctx) => create(c, [arg(d), arg(s)], ctx, bitness));
  }
  const i = toImm(src);
  const size = sizeOf(what, d);
  const n = bitsOf(size);
  const wide = size === 8 ? '32' : n;
  const label = i.label !== undefined;
  const small = !label && size > 1 && (() => { const s = signedIn(i.value, size); return s !== undefined && fitsI8(s); })();
  let name: string;
  if (isReg(d) && d.number === 0 && !d.name.endsWith('h') && (size === 1 || !small)) name = `${op}_${ACC[size] ?? ''}_imm${wide}`;
  else if (size === 1) name = `${op}_rm8_imm8`;
  else name = small ? `${op}_rm${n}_imm8` : `${op}_rm${n}_imm${wide}`;
  const c = code(name);
  const field = size === 1 || small ? 1 : Math.min(size, 4);
  return form(what, [d, i], isMem(d), (ctx) => create(c, [arg(d), { i: immFor(what, i, ctx, size, field) }], ctx, bitness));
}

export function test(dst: Src, src: Src, bitness: Bitness): Form {
  const what = render('test', [dst, src]);
  const d = operandRM(what, dst, bitness);
  if (isReg(src) || isMem(src)) {
    const s = operandRM(what, src, bitness);
    const n = bitsOf(sizeOf(what, d, s));
    if (isMem(d) && isMem(s)) throw bad(what, 'x86 cannot take two memory operands');
    const [rm, r] = isMem(s) ? [s, d] : [d, s];
    const c = code(`Test_rm${n}_r${n}`);
    return form(what, [d, s], false, (ctx) => create(c, [arg(rm), arg(r)], ctx, bitness));
  }
  const i = toImm(src);
  const size = sizeOf(what, d);
  const n = bitsOf(size);
  const wide = size === 8 ? '32' : n;
  const c = code(isReg(d) && d.number === 0 && !d.name.endsWith('h') ? `Test_${ACC[size] ?? ''}_imm${wide}` : `Test_rm${n}_imm${wide}`);
  return form(what, [d, i], false, (ctx) => create(c, [arg(d), { i: immFor(what, i, ctx, size, Math.min(size, 4)) }], ctx, bitness));
}

export type UnaryOp = 'Inc' | 'Dec' | 'Neg' | 'Not';

export function unary(op: UnaryOp, dst: Src, bitness: Bitness): Form {
  const what = render(op.toLowerCase(), [dst]);
  const d = operandRM(what, dst, bitness);
  const size = sizeOf(what, d);
  // gas uses the one-byte 40+r / 48+r forms where they exist (outside 64-bit mode).
  const short = bitness === 32 && isReg(d) && (size === 2 || size === 4) && (op === 'Inc' || op === 'Dec');
  const c = code(short ? `${op}_r${bitsOf(size)}` : `${op}_rm${bitsOf(size)}`);
  return form(what, [d], isMem(d), (ctx) => create(c, [arg(d)], ctx, bitness));
}

export type ShiftOp = 'Shl' | 'Shr' | 'Sar' | 'Rol' | 'Ror';

export function shift(op: ShiftOp, dst: Src, count: Src | undefined, bitness: Bitness): Form {
  const what = render(op.toLowerCase(), [dst, count]);
  const d = operandRM(what, dst, bitness);
  const n = bitsOf(sizeOf(what, d));
  if (isReg(count)) {
    if (count.name !== 'cl') throw bad(what, 'a shift count register must be %cl');
    const c = code(`${op}_rm${n}_CL`);
    return form(what, [d], false, (ctx) => create(c, [arg(d), { r: count }], ctx, bitness));
  }
  if (isMem(count)) throw bad(what, 'a shift count is %cl or an immediate');
  const i = toImm(count ?? 1);
  if (i.label !== undefined || i.value < 0n || i.value > 255n) throw new AsmError('KERNSIM_ASM_RANGE', `${what}: shift count must be 0..255`);
  const one = i.value === 1n;
  const c = code(one ? `${op}_rm${n}_1` : `${op}_rm${n}_imm8`);
  const v = Number(i.value);
  return form(what, [d], false, (ctx) => create(c, [arg(d), { i: v }], ctx, bitness));
}

/** mov in all the forms the kernel uses: registers, memory, immediates, segment and control registers. */
export function mov(dst: Src, src: Src, bitness: Bitness): Form {
  const what = render('mov', [dst, src]);
  if (isReg(dst) && dst.class === 'control') return movCr(what, dst, src, bitness, true);
  if (isReg(src) && src.class === 'control') return movCr(what, src, dst, bitness, false);
  if (isReg(dst) && dst.class === 'segment') {
    if (isImmLike(src)) throw bad(what, 'x86 cannot move an immediate into a segment register');
    // gas writes `mov %ax,%ss` without an operand-size prefix: the register form ignores it.
    const s0 = operandRM(what, src, bitness);
    const s = isReg(s0) && s0.size === 2 ? widen(s0) : s0;
    const c = code(isMem(s) ? 'Mov_Sreg_rm16' : `Mov_Sreg_r${bitsOf(s.size)}m16`);
    return form(what, [s], false, (ctx) => create(c, [{ r: dst }, arg(s)], ctx, bitness));
  }
  if (isReg(src) && src.class === 'segment') {
    const d = operandRM(what, dst, bitness);
    const c = code(isMem(d) || d.size === 2 ? 'Mov_rm16_Sreg' : `Mov_r${bitsOf(d.size)}m16_Sreg`);
    return form(what, [d], false, (ctx) => create(c, [arg(d), { r: src }], ctx, bitness));
  }
  const d = operandRM(what, dst, bitness);
  if (isReg(src) || isMem(src)) {
    const s = operandRM(what, src, bitness);
    const size = sizeOf(what, d, s);
    const n = bitsOf(size);
    if (isMem(d) && isMem(s)) throw bad(what, 'x86 cannot take two memory operands');
    const m = isMem(d) ? d : isMem(s) ? s : undefined;
    const r = isReg(d) ? d : (s as Reg);
    // 32-bit gas picks the moffs form (a0-a3) for an absolute address with the accumulator.
    if (bitness === 32 && m && !m.base && !m.index && r.number === 0 && !r.name.endsWith('h')) {
      const c = code(isMem(d) ? `Mov_moffs${n}_${ACC[size] ?? ''}` : `Mov_${ACC[size] ?? ''}_moffs${n}`);
      return form(what, [d, s], false, (ctx) => create(c, [arg(d), arg(s)], ctx, bitness));
    }
    const c = code(isMem(s) ? `Mov_r${n}_rm${n}` : `Mov_rm${n}_r${n}`);
    return form(what, [d, s], false, (ctx) => create(c, [arg(d), arg(s)], ctx, bitness));
  }
  const i = toImm(src);
  const size = sizeOf(what, d);
  const n = bitsOf(size);
  if (isReg(d)) {
    if (size === 8) {
      const s = signedIn(i.value, 8);
      if (i.label !== undefined || (s !== undefined && fitsI32(s))) {
        const c = code('Mov_rm64_imm32');
        return form(what, [d, i], false, (ctx) => create(c, [arg(d), { i: immFor(what, i, ctx, 8, 4) }], ctx, bitness));
      }
      return movabs(d, i, bitness);
    }
    const c = code(`Mov_r${n}_imm${n}`);
    return form(what, [d, i], false, (ctx) => create(c, [arg(d), { i: immFor(what, i, ctx, size, size) }], ctx, bitness));
  }
  const c = code(`Mov_rm${n}_imm${size === 8 ? '32' : n}`);
  return form(what, [d, i], false, (ctx) => create(c, [arg(d), { i: immFor(what, i, ctx, size, Math.min(size, 4)) }], ctx, bitness));
}

function widen(r: Reg): Reg {
  const wide = Object.values(reg).find((x: Reg) => x.class === 'gpr' && x.size === 4 && x.number === r.number);
  return wide ?? r;
}

function isImmLike(x: Src): x is ImmLike {
  return typeof x !== 'object' || x.kind === 'imm';
}

function movCr(what: string, cr: Reg, other: Src, bitness: Bitness, toCr: boolean): Form {
  if (!isReg(other) || other.class !== 'gpr' || other.size !== bitness / 8) {
    throw bad(what, `control registers move only to or from a ${String(bitness)}-bit general register`);
  }
  const g = gpr(what, other, bitness);
  const c = code(toCr ? `Mov_cr_r${String(bitness)}` : `Mov_r${String(bitness)}_cr`);
  return form(what, [], false, (ctx) => create(c, toCr ? [{ r: cr }, { r: g }] : [{ r: g }, { r: cr }], ctx, bitness));
}

/** mov with a full 64-bit immediate (48 b8+r io). */
export function movabs(dst: Src, src: Src, bitness: Bitness): Form {
  const what = render('movabs', [dst, src]);
  if (bitness !== 64) throw bad(what, 'movabs exists only in 64-bit mode');
  if (!isReg(dst) || dst.class !== 'gpr' || dst.size !== 8 || !isImmLike(src)) throw bad(what, 'movabs takes a 64-bit register and an immediate');
  const i = toImm(src);
  const c = code('Mov_r64_imm64');
  return form(what, [i], false, (ctx) => {
    const v = immValue(i, ctx);
    if (signedIn(v, 8) === undefined) throw new AsmError('KERNSIM_ASM_RANGE', `${what}: immediate does not fit 64 bits`);
    return Instruction.createRegU64(c, dst.id, BigInt.asUintN(64, v));
  });
}

export type ExtendOp = 'Movzx' | 'Movsx';

export function extend(op: ExtendOp, dst: Src, src: Src, bitness: Bitness): Form {
  const what = render(op.toLowerCase(), [dst, src]);
  if (!isReg(dst)) throw bad(what, 'the destination must be a register');
  const d = gpr(what, dst, bitness);
  const s = operandRM(what, src, bitness);
  if (s.size === 0) throw bad(what, 'source size is ambiguous: use byte(...) or word(...)');
  if (s.size === 4 && op === 'Movsx' && d.size === 8) {
    const c = code('Movsxd_r64_rm32');
    return form(what, [s], false, (ctx) => create(c, [{ r: d }, arg(s)], ctx, bitness));
  }
  if (s.size >= d.size || s.size > 2) {
    const hint = op === 'Movzx' && s.size === 4 ? ' (a 32-bit mov already zero-extends into the 64-bit register)' : '';
    throw bad(what, `cannot extend ${String(s.size * 8)} bits into ${String(d.size * 8)} bits${hint}`);
  }
  const c = code(`${op}_r${bitsOf(d.size)}_rm${bitsOf(s.size)}`);
  return form(what, [s], false, (ctx) => create(c, [{ r: d }, arg(s)], ctx, bitness));
}

export function lea(dst: Src, src: Src, bitness: Bitness): Form {
  const what = render('lea', [dst, src]);
  if (!isReg(dst) || !isMem(src)) throw bad(what, 'lea takes a register and a memory operand');
  const d = gpr(what, dst, bitness);
  if (d.size === 1) throw bad(what, 'lea needs a 16-, 32- or 64-bit register');
  checkMem(what, src, bitness);
  const c = code(`Lea_r${bitsOf(d.size)}_m`);
  return form(what, [src], false, (ctx) => create(c, [{ r: d }, { m: src }], ctx, bitness));
}

export function pushPop(op: 'Push' | 'Pop', x: Src, bitness: Bitness): Form {
  const what = render(op.toLowerCase(), [x]);
  const wq = bitness === 64 ? 'q' : 'd';
  if (isReg(x) && x.class === 'segment') {
    const ok = x.name === 'fs' || x.name === 'gs' || (bitness === 32 && x.name !== 'cs') || (op === 'Push' && x.name === 'cs' && bitness === 32);
    if (!ok) throw bad(what, `${op.toLowerCase()} %${x.name} is not encodable in ${String(bitness)}-bit mode`);
    const c = code(`${op}${wq}_${x.name.toUpperCase()}`);
    return form(what, [], false, (ctx) => create(c, [{ r: x }], ctx, bitness));
  }
  if (isReg(x)) {
    const r = gpr(what, x, bitness);
    if (r.size !== bitness / 8 && r.size !== 2) throw bad(what, `%${r.name} cannot be pushed or popped in ${String(bitness)}-bit mode`);
    const c = code(`${op}_r${bitsOf(r.size)}`);
    return form(what, [], false, (ctx) => create(c, [{ r }], ctx, bitness));
  }
  if (isMem(x)) {
    checkMem(what, x, bitness);
    const size = x.size === 0 ? bitness / 8 : x.size;
    if (size !== bitness / 8 && size !== 2) throw bad(what, `a ${String(size * 8)}-bit memory operand cannot be pushed or popped`);
    const c = code(`${op}_rm${bitsOf(size)}`);
    return form(what, [x], false, (ctx) => create(c, [{ m: x }], ctx, bitness));
  }
  if (op === 'Pop') throw bad(what, 'pop needs a register or memory operand');
  const i = toImm(x);
  const small = i.label === undefined && fitsI8(signedIn(i.value, bitness / 8) ?? 1000n);
  const c = code(small ? `Push${wq}_imm8` : `Push${wq}_imm32`);
  return form(what, [i], false, (ctx) => create(c, [{ i: immFor(what, i, ctx, bitness / 8, small ? 1 : 4) }], ctx, bitness));
}

/** Indirect call/jmp through a register or memory. */
export function indirect(op: 'Call' | 'Jmp', target: Reg | Mem, bitness: Bitness): Form {
  const what = render(op.toLowerCase(), [target]);
  const t = operandRM(what, target, bitness);
  if (t.size !== 0 && t.size !== bitness / 8) throw bad(what, `an indirect target is ${String(bitness)} bits in this mode`);
  const c = code(`${op}_rm${String(bitness)}`);
  return form(what, [t], false, (ctx) => create(c, [arg(t)], ctx, bitness));
}

export type ExchangeOp = 'Xchg' | 'Cmpxchg' | 'Xadd';

export function exchange(op: ExchangeOp, dst: Src, src: Src, bitness: Bitness): Form {
  const what = render(op.toLowerCase(), [dst, src]);
  let d = operandRM(what, dst, bitness);
  let s = operandRM(what, src, bitness);
  const size = sizeOf(what, d, s);
  const n = bitsOf(size);
  if (op === 'Xchg' && isMem(s)) [d, s] = [s, d];
  if (!isReg(s)) throw bad(what, `${op.toLowerCase()} needs a register source`);
  const sr = s;
  const dm = d;
  if (op === 'Xchg' && isReg(dm) && size > 1 && (dm.number === 0 || sr.number === 0) && !(bitness === 64 && size === 4 && dm.number === 0 && sr.number === 0)) {
    // gas uses the one-byte 90+r form when the accumulator is involved.
    const [other, acc] = dm.number === 0 ? [sr, dm] : [dm, sr];
    const c = code(`Xchg_r${n}_${ACC[size] ?? ''}`);
    return form(what, [], false, (ctx) => create(c, [{ r: other }, { r: acc }], ctx, bitness));
  }
  const c = code(`${op}_rm${n}_r${n}`);
  return form(what, [dm, sr], isMem(dm), (ctx) => create(c, [arg(dm), { r: sr }], ctx, bitness));
}

export function inOut(op: 'In' | 'Out', port: Src, data: Src, bitness: Bitness): Form {
  const what = op === 'In' ? render('in', [data, port]) : render('out', [port, data]);
  if (!isReg(data) || data.class !== 'gpr' || data.number !== 0 || data.size === 8 || data.name.endsWith('h')) {
    throw bad(what, 'the data register must be %al, %ax or %eax');
  }
  const acc = ACC[data.size] ?? '';
  if (isReg(port)) {
    if (port.name !== 'dx') throw bad(what, 'a port register must be %dx');
    const c = code(op === 'In' ? `In_${acc}_DX` : `Out_DX_${acc}`);
    return form(what, [], false, (ctx) => create(c, op === 'In' ? [{ r: data }, { r: port }] : [{ r: port }, { r: data }], ctx, bitness));
  }
  if (isMem(port)) throw bad(what, 'a port is %dx or an 8-bit immediate');
  const p = toImm(port);
  if (p.label !== undefined || p.value < 0n || p.value > 255n) throw new AsmError('KERNSIM_ASM_RANGE', `${what}: an immediate port must be 0..255`);
  const v = Number(p.value);
  const c = code(op === 'In' ? `In_${acc}_imm8` : `Out_imm8_${acc}`);
  return form(what, [], false, () => (op === 'In' ? Instruction.createRegU32(c, data.id, v) : Instruction.createU32Reg(c, v, data.id)));
}

export type StringOp = 'movs' | 'stos';

export function stringOp(op: StringOp, size: 1 | 2 | 4 | 8, rep: boolean, bitness: Bitness): Form {
  if (size === 8 && bitness !== 64) throw bad(`${op}q`, 'quadword string operations exist only in 64-bit mode');
  const suffix = ({ 1: 'b', 2: 'w', 4: 'd', 8: 'q' } as const)[size];
  const what = `${rep ? 'rep ' : ''}${op}${suffix}`;
  const prefix = rep ? RepPrefixKind.Repe : RepPrefixKind.None;
  return form(what, [], false, () => {
    if (op === 'movs') {
      switch (suffix) {
        case 'b': return Instruction.createMovsb(bitness, Register.None, prefix);
        case 'w': return Instruction.createMovsw(bitness, Register.None, prefix);
        case 'd': return Instruction.createMovsd(bitness, Register.None, prefix);
        case 'q': return Instruction.createMovsq(bitness, Register.None, prefix);
      }
    }
    switch (suffix) {
      case 'b': return Instruction.createStosb(bitness, prefix);
      case 'w': return Instruction.createStosw(bitness, prefix);
      case 'd': return Instruction.createStosd(bitness, prefix);
      case 'q': return Instruction.createStosq(bitness, prefix);
    }
  });
}

/** Instructions without operands, by iced code name per mode (undefined: not encodable in that mode). */
export function plain(mnemonic: string, names: { readonly 32?: string; readonly 64?: string }, bitness: Bitness): Form {
  const name = names[bitness];
  if (name === undefined) throw bad(mnemonic, `not encodable in ${String(bitness)}-bit mode`);
  const c = code(name);
  return form(name, [], false, (ctx) => create(c, [], ctx, bitness));
}

export function withImm(mnemonic: string, name: string, value: ImmLike, max: number): Form {
  const i = toImm(value);
  if (i.label !== undefined || i.value < 0n || i.value > BigInt(max)) {
    throw new AsmError('KERNSIM_ASM_RANGE', `${mnemonic}: immediate must be 0..${String(max)}, got ${describe(i)}`);
  }
  const c = code(name);
  const v = Number(i.value);
  return form(`${name} ${String(v)}`, [], false, () => Instruction.createU32(c, v));
}

/** Instructions whose only operand is memory (lidt, sidt, invlpg). */
export function memoryOnly(mnemonic: string, names: { readonly 32?: string; readonly 64?: string }, m: Src, bitness: Bitness): Form {
  const what = render(mnemonic, [m]);
  const name = names[bitness];
  if (name === undefined) throw bad(what, `not encodable in ${String(bitness)}-bit mode`);
  if (!isMem(m)) throw bad(what, `${mnemonic} takes a memory operand`);
  checkMem(what, m, bitness);
  const c = code(name);
  return form(what, [m], false, (ctx) => create(c, [{ m }], ctx, bitness));
}

/** Multi-byte nops as the SDM recommends them (table "Recommended Multi-Byte Sequence of NOP"). */
export const NOPS: readonly (readonly number[])[] = [
  [],
  [0x90],
  [0x66, 0x90],
  [0x0f, 0x1f, 0x00],
  [0x0f, 0x1f, 0x40, 0x00],
  [0x0f, 0x1f, 0x44, 0x00, 0x00],
  [0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00],
  [0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00],
  [0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
  [0x66, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
];
