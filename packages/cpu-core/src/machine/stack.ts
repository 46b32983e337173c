import type { CpuState } from './cpu.js';
import { rd, wr } from './bus.js';

/** Pushes a value; RSP changes only once the write has succeeded. */
export function push(c: CpuState, size: number, vlo: number, vhi: number): void {
  let lo = c.lo[4]! - size;
  let hi = c.hi[4]!;
  if (lo < 0) {
    lo += 4294967296;
    hi = c.m.is64 ? (hi - 1) >>> 0 : 0;
  }
  wr(c, lo, hi, size, vlo, vhi);
  c.lo[4] = lo;
  c.hi[4] = hi;
}

/** Pops a value (low half returned, high half in c.vh). */
export function pop(c: CpuState, size: number): number {
  const lo = c.lo[4]!;
  const hi = c.hi[4]!;
  const v = rd(c, lo, hi, size);
  const next = lo + size;
  c.lo[4] = next >>> 0;
  if (next > 0xffffffff) c.hi[4] = c.m.is64 ? (hi + 1) >>> 0 : 0;
  return v;
}
