import type { CpuState } from './cpu.js';

/** ALU operations, numbered like the x86 group-1 `/r` field; TEST follows. */
export const ADD = 0;
export const OR = 1;
export const ADC = 2;
export const SBB = 3;
export const AND = 4;
export const SUB = 5;
export const XOR = 6;
export const CMP = 7;
export const TEST = 8;

/** Shift kinds, numbered like the x86 group-2 `/r` field. */
export const ROL = 0;
export const ROR = 1;
export const SHL = 4;
export const SHR = 5;
export const SAR = 7;

export const PARITY = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  let b = 0;
  for (let k = 0; k < 8; k++) b ^= (i >> k) & 1;
  PARITY[i] = b ^ 1;
}

export const MASK = [0, 0xff, 0xffff, 0, 0xffffffff, 0, 0, 0, 0xffffffff] as const;
const SIGN = [0, 0x80, 0x8000, 0, 0x80000000, 0, 0, 0, 0x80000000] as const;

/*
 * `alu`, `shift` and their 64-bit halves are small dispatchers over one small function per
 * operation: V8 inlines a function of at most 460 bytes of bytecode, and each of the four had
 * grown past it (494–756), so every ALU or shift closure called it out of line, its kernel-address
 * operands boxed as heap numbers.
 */

/** Runs an ALU op on operands already truncated to `size`; sets the flags; returns the low half, high half in `c.rh`. */
export function alu(c: CpuState, op: number, size: number, a: number, ah: number, b: number, bh: number): number {
  if (size === 8) return alu64(c, op, a, ah, b, bh);
  const r = op === ADD || op === ADC ? add32(c, op, size, a, b) : op === SUB || op === CMP || op === SBB ? sub32(c, op, size, a, b) : logic(c, op, a, b);
  c.zf = r === 0 ? 1 : 0;
  c.sf = (r & SIGN[size]!) !== 0 ? 1 : 0;
  c.pf = PARITY[r & 0xff]!;
  c.rh = 0;
  return r;
}

/** ADD/ADC at 8, 16 or 32 bits: CF, OF, AF. */
function add32(c: CpuState, op: number, size: number, a: number, b: number): number {
  const mask = MASK[size]!;
  let r = a + b + (op === ADC ? c.cf : 0);
  c.cf = r > mask ? 1 : 0;
  r = (r & mask) >>> 0;
  c.of = ((a ^ r) & (b ^ r) & SIGN[size]!) !== 0 ? 1 : 0;
  c.af = ((a ^ b ^ r) >>> 4) & 1;
  return r;
}

/** SUB/CMP/SBB at 8, 16 or 32 bits: CF, OF, AF. */
function sub32(c: CpuState, op: number, size: number, a: number, b: number): number {
  let r = a - b - (op === SBB ? c.cf : 0);
  c.cf = r < 0 ? 1 : 0;
  r = (r & MASK[size]!) >>> 0;
  c.of = ((a ^ b) & (a ^ r) & SIGN[size]!) !== 0 ? 1 : 0;
  c.af = ((a ^ b ^ r) >>> 4) & 1;
  return r;
}

/** OR, XOR, AND/TEST on one 32-bit half: CF, OF, AF cleared. */
function logic(c: CpuState, op: number, a: number, b: number): number {
  c.cf = c.of = c.af = 0;
  return (op === OR ? a | b : op === XOR ? a ^ b : a & b) >>> 0;
}

function alu64(c: CpuState, op: number, a: number, ah: number, b: number, bh: number): number {
  let lo: number;
  if (op === ADD || op === ADC) lo = add64(c, op, a, ah, b, bh);
  else if (op === SUB || op === CMP || op === SBB) lo = sub64(c, op, a, ah, b, bh);
  else {
    lo = logic(c, op, a, b);
    c.rh = (op === OR ? ah | bh : op === XOR ? ah ^ bh : ah & bh) >>> 0;
  }
  const hi = c.rh;
  c.zf = (lo | hi) === 0 ? 1 : 0;
  c.sf = hi >>> 31;
  c.pf = PARITY[lo & 0xff]!;
  return lo;
}

/** ADD/ADC on halves: the high half in `c.rh`; CF, OF, AF. */
function add64(c: CpuState, op: number, a: number, ah: number, b: number, bh: number): number {
  let lo = a + b + (op === ADC ? c.cf : 0);
  const k = lo > 0xffffffff ? 1 : 0;
  lo >>>= 0;
  let hi = ah + bh + k;
  c.cf = hi > 0xffffffff ? 1 : 0;
  hi >>>= 0;
  c.of = ((ah ^ hi) & (bh ^ hi)) >>> 31;
  c.af = ((a ^ b ^ lo) >>> 4) & 1;
  c.rh = hi;
  return lo;
}

/** SUB/CMP/SBB on halves: the high half in `c.rh`; CF, OF, AF. */
function sub64(c: CpuState, op: number, a: number, ah: number, b: number, bh: number): number {
  let lo = a - b - (op === SBB ? c.cf : 0);
  const k = lo < 0 ? 1 : 0;
  lo >>>= 0;
  let hi = ah - bh - k;
  c.cf = hi < 0 ? 1 : 0;
  hi >>>= 0;
  c.of = ((ah ^ bh) & (ah ^ hi)) >>> 31;
  c.af = ((a ^ b ^ lo) >>> 4) & 1;
  c.rh = hi;
  return lo;
}

/**
 * AF after shl/shr/sar with a non-zero count: the SDM leaves it undefined; the reference CPU
 * (AMD EPYC, measured by tools/oracle) sets it.
 */
export const SHIFT_AF = 1;

/** Shifts and rotates; a zero count leaves the flags alone, as on hardware. */
export function shift(c: CpuState, kind: number, size: number, a: number, ah: number, countIn: number): number {
  const count = countIn & (size === 8 ? 63 : 31);
  c.rh = ah;
  if (count === 0) return a;
  if (size === 8) return shift64(c, kind, a >>> 0, ah >>> 0, count);
  if (kind !== SHL && kind !== SHR && kind !== SAR) return rotate32(c, kind, size, a, count);
  const r = (kind === SHL ? shl32(c, size, a, count) : kind === SHR ? shr32(c, size, a, count) : sar32(c, size, a, count)) >>> 0;
  c.zf = r === 0 ? 1 : 0;
  c.sf = (r & SIGN[size]!) !== 0 ? 1 : 0;
  c.pf = PARITY[r & 0xff]!;
  c.af = SHIFT_AF;
  c.rh = 0;
  return r;
}

function shl32(c: CpuState, size: number, a: number, count: number): number {
  const bits = size * 8;
  const wide = a * 2 ** count;
  c.cf = Math.floor(wide / 2 ** bits) & 1;
  const r = wide % 2 ** bits;
  c.of = ((r & SIGN[size]!) !== 0 ? 1 : 0) ^ c.cf;
  return r;
}

function shr32(c: CpuState, size: number, a: number, count: number): number {
  const bits = size * 8;
  c.cf = count > bits ? 0 : Math.floor(a / 2 ** (count - 1)) & 1;
  const r = count >= bits ? 0 : Math.floor(a / 2 ** count);
  // MSB(original) for a count of 1; the reference CPU uses the same expression for any count.
  c.of = (r & (SIGN[size]! >>> 1)) !== 0 ? 1 : 0;
  return r;
}

function sar32(c: CpuState, size: number, a: number, count: number): number {
  const bits = size * 8;
  const s = size === 4 ? a | 0 : (a << (32 - bits)) >> (32 - bits);
  c.cf = (s >> Math.min(count - 1, 31)) & 1;
  c.of = 0;
  return ((s >> Math.min(count, 31)) & MASK[size]!) >>> 0;
}

/** ROL/ROR at 8, 16 or 32 bits: CF and OF only. */
function rotate32(c: CpuState, kind: number, size: number, a: number, count: number): number {
  const bits = size * 8;
  const sign = SIGN[size]!;
  const m = count % bits;
  let r = kind === ROL ? ((a * 2 ** m) % 2 ** bits) + Math.floor(a / 2 ** (bits - m)) : Math.floor(a / 2 ** m) + ((a * 2 ** (bits - m)) % 2 ** bits);
  r = r % 2 ** bits;
  const msb = (r & sign) !== 0 ? 1 : 0;
  c.cf = kind === ROL ? r & 1 : msb;
  // OF is defined for a count of 1; hardware computes the same expression for any count.
  c.of = kind === ROL ? msb ^ c.cf : msb ^ ((r & (sign >>> 1)) !== 0 ? 1 : 0);
  c.rh = 0;
  return r >>> 0;
}

/** Evaluates an x86 condition code (0..15: o no b ae e ne be a s ns p np l ge le g). */
export function cond(c: CpuState, cc: number): boolean {
  let t: boolean;
  switch (cc >> 1) {
    case 0:
      t = c.of !== 0;
      break;
    case 1:
      t = c.cf !== 0;
      break;
    case 2:
      t = c.zf !== 0;
      break;
    case 3:
      t = c.cf !== 0 || c.zf !== 0;
      break;
    case 4:
      t = c.sf !== 0;
      break;
    case 5:
      t = c.pf !== 0;
      break;
    case 6:
      t = c.sf !== c.of;
      break;
    default:
      t = c.zf !== 0 || c.sf !== c.of;
  }
  return (cc & 1) !== 0 ? !t : t;
}

/** 64-bit shifts and rotates on (lo, hi) halves, count 1..63 (no BigInt on the hot path). */
function shift64(c: CpuState, kind: number, lo: number, hi: number, n: number): number {
  if (kind === ROL || kind === ROR) return rotate64(c, kind, lo, hi, n);
  const rlo = kind === SHL ? shl64(c, lo, hi, n) : kind === SHR ? shr64(c, lo, hi, n) : sar64(c, lo, hi, n);
  const rhi = c.rh;
  c.zf = (rlo | rhi) === 0 ? 1 : 0;
  c.sf = rhi >>> 31;
  c.pf = PARITY[rlo & 0xff]!;
  c.af = SHIFT_AF;
  return rlo;
}

function rotate64(c: CpuState, kind: number, lo: number, hi: number, n: number): number {
  let rlo: number;
  let rhi: number;
  const m = kind === ROL ? n : 64 - n;
  if (m === 32) {
    rlo = hi;
    rhi = lo;
  } else if (m < 32) {
    rhi = ((hi << m) | (lo >>> (32 - m))) >>> 0;
    rlo = ((lo << m) | (hi >>> (32 - m))) >>> 0;
  } else {
    const k = m - 32;
    rhi = ((lo << k) | (hi >>> (32 - k))) >>> 0;
    rlo = ((hi << k) | (lo >>> (32 - k))) >>> 0;
  }
  c.cf = kind === ROL ? rlo & 1 : rhi >>> 31;
  c.of = kind === ROL ? (rhi >>> 31) ^ c.cf : (rhi >>> 31) ^ ((rhi >>> 30) & 1);
  c.rh = rhi;
  return rlo;
}

/** SHL on halves, count 1..63: the high half in `c.rh`. */
function shl64(c: CpuState, lo: number, hi: number, n: number): number {
  const rhi = n < 32 ? ((hi << n) | (lo >>> (32 - n))) >>> 0 : n === 32 ? lo : (lo << (n - 32)) >>> 0;
  // CF is bit 64-n of the operand.
  c.cf = n <= 32 ? (hi >>> (32 - n)) & 1 : (lo >>> (64 - n)) & 1;
  c.of = (rhi >>> 31) ^ c.cf;
  c.rh = rhi;
  return n < 32 ? (lo << n) >>> 0 : 0;
}

function shr64(c: CpuState, lo: number, hi: number, n: number): number {
  c.cf = n <= 32 ? (lo >>> (n - 1)) & 1 : (hi >>> (n - 33)) & 1;
  c.of = n === 1 ? hi >>> 31 : 0;
  c.rh = n < 32 ? hi >>> n : 0;
  return n < 32 ? ((lo >>> n) | (hi << (32 - n))) >>> 0 : n === 32 ? hi : hi >>> (n - 32);
}

function sar64(c: CpuState, lo: number, hi: number, n: number): number {
  const hs = hi | 0;
  c.cf = n <= 32 ? (lo >>> (n - 1)) & 1 : (hi >>> (n - 33)) & 1;
  c.of = 0;
  c.rh = n < 32 ? (hs >> n) >>> 0 : (hs >> 31) >>> 0;
  return n < 32 ? ((lo >>> n) | (hi << (32 - n))) >>> 0 : (hs >> (n - 32)) >>> 0;
}
