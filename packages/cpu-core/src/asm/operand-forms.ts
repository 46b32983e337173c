import { Instruction } from 'iced-x86';
import { AsmError } from './errors.js';
import { ACC, arg, bad, checkMem, form, gpr, immFor, isImmLike, operandRM, render, sizeOf } from './form.js';
import type { Form, Src } from './form.js';
import { bitsOf, code, create, fitsI32, fitsI8, immValue, signedIn } from './iced.js';
import type { Bitness } from './iced.js';
import { isMem, isReg, reg, toImm } from './operands.js';
import type { Mem, Reg } from './operands.js';

/*
 * The general-purpose instructions, whose encoding follows from their register, memory
 * and immediate operands: each builder picks the form GNU as would.
 */

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
