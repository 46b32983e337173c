import { PARITY } from '../alu.js';
import type { CpuState } from '../cpu.js';
import type { Loc } from '../operands.js';

/** Value masks by operand width, for the BigInt paths of the rarer instructions. */
export const MASKN = [0n, 0xffn, 0xffffn, 0n, 0xffffffffn, 0n, 0n, 0n, 0xffffffffffffffffn] as const;

/** Reads an operand as an unsigned BigInt of its width (`at`: memory at the address computed last). */
export function getN(c: CpuState, l: Loc, at = false): bigint {
  const lo = at ? l.getAt(c) : l.get(c);
  const v = (BigInt(c.vh >>> 0) << 32n) | BigInt(lo >>> 0);
  return v & MASKN[l.size]!;
}

/** Writes the low `l.size` bytes of `v` to an operand (`at`: memory at the address computed last). */
export function setN(c: CpuState, l: Loc, v: bigint, at = false): void {
  const lo = Number(v & 0xffffffffn);
  const hi = Number((v >> 32n) & 0xffffffffn);
  if (at) l.setAt(c, lo, hi);
  else l.set(c, lo, hi);
}

/** Reads register `r` (0..15) as an unsigned BigInt of `size` bytes. */
export function regN(c: CpuState, r: number, size: number): bigint {
  return ((BigInt(c.hi[r]!) << 32n) | BigInt(c.lo[r]!)) & MASKN[size]!;
}

/** Writes register `r` at `size` bytes from 32-bit halves: 32-bit writes zero the upper half, 8/16-bit writes merge. */
export function setRegLoHi(c: CpuState, r: number, size: number, lo: number, hi: number): void {
  if (size === 8) {
    c.lo[r] = lo;
    c.hi[r] = hi;
  } else if (size === 4) {
    c.lo[r] = lo;
    c.hi[r] = 0;
  } else if (size === 2) c.lo[r] = (c.lo[r]! & 0xffff0000) | (lo & 0xffff);
  else c.lo[r] = (c.lo[r]! & 0xffffff00) | (lo & 0xff);
}

/** Writes register `r` at `size` bytes from a BigInt, with the rules of `setRegLoHi`. */
export function setRegN(c: CpuState, r: number, size: number, v: bigint): void {
  setRegLoHi(c, r, size, Number(v & 0xffffffffn), Number((v >> 32n) & 0xffffffffn));
}

/** Sign-extends a `size`-byte unsigned value. */
export function signedN(v: bigint, size: number): bigint {
  return BigInt.asIntN(size * 8, v);
}

/** Sets ZF, SF and PF from a `size`-byte result. */
export function setSzp(c: CpuState, r: bigint, size: number): void {
  c.zf = r === 0n ? 1 : 0;
  c.sf = Number((r >> BigInt(size * 8 - 1)) & 1n);
  c.pf = PARITY[Number(r & 0xffn)]!;
}

/** Reverses the byte order of a `size`-byte value. */
export function swapBytes(v: bigint, size: number): bigint {
  let r = 0n;
  for (let i = 0; i < size; i++) r = (r << 8n) | ((v >> BigInt(i * 8)) & 0xffn);
  return r;
}
