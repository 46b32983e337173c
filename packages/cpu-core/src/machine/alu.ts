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

/** Runs an ALU op on operands already truncated to `size`; sets the flags; returns the low half, high half in `c.rh`. */
export function alu(c: CpuState, op: number, size: number, a: number, ah: number, b: number, bh: number): number {
  if (size === 8) return alu64(c, op, a, ah, b, bh);
  const mask = MASK[size]!;
  const sign = SIGN[size]!;
  let r: number;
  switch (op) {
    case ADD:
    case ADC: {
      const carry = op === ADC ? c.cf : 0;
      r = a + b + carry;
      c.cf = r > mask ? 1 : 0;
      r = (r & mask) >>> 0;
      c.of = ((a ^ r) & (b ^ r) & sign) !== 0 ? 1 : 0;
      c.af = ((a ^ b ^ r) >>> 4) & 1;
      break;
    }
    case SUB:
    case CMP:
    case SBB: {
      const borrow = op === SBB ? c.cf : 0;
      r = a - b - borrow;
      c.cf = r < 0 ? 1 : 0;
      r = (r & mask) >>> 0;
      c.of = ((a ^ b) & (a ^ r) & sign) !== 0 ? 1 : 0;
      c.af = ((a ^ b ^ r) >>> 4) & 1;
      break;
    }
    case OR:
      r = (a | b) >>> 0;
      c.cf = c.of = c.af = 0;
      break;
    case XOR:
      r = (a ^ b) >>> 0;
      c.cf = c.of = c.af = 0;
      break;
    default:
      r = (a & b) >>> 0;
      c.cf = c.of = c.af = 0;
  }
  c.zf = r === 0 ? 1 : 0;
  c.sf = (r & sign) !== 0 ? 1 : 0;
  c.pf = PARITY[r & 0xff]!;
  c.rh = 0;
  return r;
}

function alu64(c: CpuState, op: number, a: number, ah: number, b: number, bh: number): number {
  let lo: number;
  let hi: number;
  switch (op) {
    case ADD:
    case ADC: {
      lo = a + b + (op === ADC ? c.cf : 0);
      const k = lo > 0xffffffff ? 1 : 0;
      lo >>>= 0;
      hi = ah + bh + k;
      c.cf = hi > 0xffffffff ? 1 : 0;
      hi >>>= 0;
      c.of = ((ah ^ hi) & (bh ^ hi)) >>> 31;
      c.af = ((a ^ b ^ lo) >>> 4) & 1;
      break;
    }
    case SUB:
    case CMP:
    case SBB: {
      lo = a - b - (op === SBB ? c.cf : 0);
      const k = lo < 0 ? 1 : 0;
      lo >>>= 0;
      hi = ah - bh - k;
      c.cf = hi < 0 ? 1 : 0;
      hi >>>= 0;
      c.of = ((ah ^ bh) & (ah ^ hi)) >>> 31;
      c.af = ((a ^ b ^ lo) >>> 4) & 1;
      break;
    }
    case OR:
      lo = (a | b) >>> 0;
      hi = (ah | bh) >>> 0;
      c.cf = c.of = c.af = 0;
      break;
    case XOR:
      lo = (a ^ b) >>> 0;
      hi = (ah ^ bh) >>> 0;
      c.cf = c.of = c.af = 0;
      break;
    default:
      lo = (a & b) >>> 0;
      hi = (ah & bh) >>> 0;
      c.cf = c.of = c.af = 0;
  }
  c.zf = (lo | hi) === 0 ? 1 : 0;
  c.sf = hi >>> 31;
  c.pf = PARITY[lo & 0xff]!;
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
  const bits = size * 8;
  const count = countIn & (size === 8 ? 63 : 31);
  c.rh = ah;
  if (count === 0) return a;
  if (size === 8) return shift64(c, kind, a >>> 0, ah >>> 0, count);
  const mask = MASK[size]!;
  const sign = SIGN[size]!;
  let r: number;
  if (kind === SHL) {
    const wide = a * 2 ** count;
    c.cf = Math.floor(wide / 2 ** bits) & 1;
    r = wide % 2 ** bits;
    c.of = ((r & sign) !== 0 ? 1 : 0) ^ c.cf;
  } else if (kind === SHR) {
    c.cf = count > bits ? 0 : Math.floor(a / 2 ** (count - 1)) & 1;
    r = count >= bits ? 0 : Math.floor(a / 2 ** count);
    // MSB(original) for a count of 1; the reference CPU uses the same expression for any count.
    c.of = (r & (sign >>> 1)) !== 0 ? 1 : 0;
  } else if (kind === SAR) {
    const s = size === 4 ? a | 0 : (a << (32 - bits)) >> (32 - bits);
    c.cf = (s >> Math.min(count - 1, 31)) & 1;
    r = ((s >> Math.min(count, 31)) & mask) >>> 0;
    c.of = 0;
  } else {
    const m = count % bits;
    r = kind === ROL ? ((a * 2 ** m) % 2 ** bits) + Math.floor(a / 2 ** (bits - m)) : Math.floor(a / 2 ** m) + ((a * 2 ** (bits - m)) % 2 ** bits);
    r = r % 2 ** bits;
    const msb = (r & sign) !== 0 ? 1 : 0;
    c.cf = kind === ROL ? r & 1 : msb;
    // OF is defined for a count of 1; hardware computes the same expression for any count.
    c.of = kind === ROL ? msb ^ c.cf : msb ^ ((r & (sign >>> 1)) !== 0 ? 1 : 0);
    c.rh = 0;
    return r >>> 0;
  }
  r = r >>> 0;
  c.zf = r === 0 ? 1 : 0;
  c.sf = (r & sign) !== 0 ? 1 : 0;
  c.pf = PARITY[r & 0xff]!;
  c.af = SHIFT_AF;
  c.rh = 0;
  return r;
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
  let rlo: number;
  let rhi: number;
  if (kind === ROL || kind === ROR) {
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
  if (kind === SHL) {
    if (n < 32) {
      rhi = ((hi << n) | (lo >>> (32 - n))) >>> 0;
      rlo = (lo << n) >>> 0;
    } else {
      rhi = n === 32 ? lo : (lo << (n - 32)) >>> 0;
      rlo = 0;
    }
    // CF is bit 64-n of the operand.
    c.cf = n <= 32 ? (hi >>> (32 - n)) & 1 : (lo >>> (64 - n)) & 1;
    c.of = (rhi >>> 31) ^ c.cf;
  } else if (kind === SHR) {
    if (n < 32) {
      rlo = ((lo >>> n) | (hi << (32 - n))) >>> 0;
      rhi = hi >>> n;
    } else {
      rlo = n === 32 ? hi : hi >>> (n - 32);
      rhi = 0;
    }
    c.cf = n <= 32 ? (lo >>> (n - 1)) & 1 : (hi >>> (n - 33)) & 1;
    c.of = n === 1 ? hi >>> 31 : 0;
  } else {
    const hs = hi | 0;
    if (n < 32) {
      rlo = ((lo >>> n) | (hi << (32 - n))) >>> 0;
      rhi = (hs >> n) >>> 0;
    } else {
      rlo = (hs >> (n - 32)) >>> 0;
      rhi = (hs >> 31) >>> 0;
    }
    c.cf = n <= 32 ? (lo >>> (n - 1)) & 1 : (hi >>> (n - 33)) & 1;
    c.of = 0;
  }
  c.zf = (rlo | rhi) === 0 ? 1 : 0;
  c.sf = rhi >>> 31;
  c.pf = PARITY[rlo & 0xff]!;
  c.af = SHIFT_AF;
  c.rh = rhi;
  return rlo;
}
