import { CpuError } from '../errors.js';
import type { CpuErrorCode } from '../errors.js';

/** How a bad value reads in a message: strings quoted, bigints with their `n`, the rest as JS prints them. */
export function show(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null || v === undefined || typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v === 'function' || typeof v === 'symbol') return `a ${typeof v}`;
  try {
    return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x));
  } catch {
    return typeof v;
  }
}

const bad = (what: string, expected: string, v: unknown, code: CpuErrorCode = 'KERNSIM_CPU_BAD_ARGUMENT'): CpuError => new CpuError(code, `${what} must be ${expected}, got ${show(v)}`);

/** One of a fixed set of strings. */
export function oneOf<T extends string>(v: unknown, allowed: readonly T[], what: string, code: CpuErrorCode = 'KERNSIM_CPU_BAD_ARGUMENT'): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) throw bad(what, allowed.map((a) => `'${a}'`).join(' or '), v, code);
  return v as T;
}

/** An integer in [min, max]. */
export function intIn(v: unknown, min: number, max: number, what: string, code: CpuErrorCode = 'KERNSIM_CPU_BAD_ARGUMENT'): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw bad(what, `an integer from ${min} to ${max}`, v, code);
  return v;
}

/** An access size of 1, 2, 4 or 8 bytes. */
export function accessSize(v: unknown, what: string): 1 | 2 | 4 | 8 {
  if (v !== 1 && v !== 2 && v !== 4 && v !== 8) throw bad(what, '1, 2, 4 or 8 (bytes)', v);
  return v;
}

/** A bigint that fits `bits` bits, as an unsigned value or as a two's-complement negative one. */
export function fitting(v: unknown, bits: number, what: string): bigint {
  if (typeof v !== 'bigint') throw bad(what, `a bigint (e.g. ${show(1n)})`, v);
  if (v >= 1n << BigInt(bits) || v < -(1n << BigInt(bits - 1))) throw bad(what, `a ${bits}-bit value (${show(-(1n << BigInt(bits - 1)))} to 0x${((1n << BigInt(bits)) - 1n).toString(16)})`, v);
  return v;
}

/** A bigint address (range checks are the caller's: they depend on the architecture). */
export function address(v: unknown, what: string): bigint {
  if (typeof v !== 'bigint') throw bad(what, 'a bigint address', v);
  return v;
}

/** A byte array: every element an integer 0..255. */
export function byteArray(bytes: ArrayLike<number>, what: string): void {
  if (typeof bytes !== 'object' || typeof bytes.length !== 'number') throw bad(what, 'an array of bytes', bytes);
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (typeof b !== 'number' || !Number.isInteger(b) || b < 0 || b > 255) throw bad(`${what}[${i}]`, 'an integer from 0 to 255', b);
  }
}

/** A positive integer length (of a range to watch, read or map). */
export function positiveLength(v: unknown, what: string, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0 || v > max) throw bad(what, `a positive integer${max < Number.MAX_SAFE_INTEGER ? ` up to ${max}` : ''}`, v);
  return v;
}
