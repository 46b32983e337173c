import type { CpuState } from './cpu.js';

const SKIP = new Set(['m', 'id', 'tlbR', 'tlbW', 'tlbF', 'codeVpn', 'codeFrame']);

/** A CPU's architectural fields, as values in the order of `keys` (typed and plain arrays copied). */
export interface CpuImage {
  readonly keys: readonly string[];
  readonly values: readonly unknown[];
}

/** Each CPU's field names (fixed once it is built: class fields), found once instead of at every snapshot. */
const fieldNames = new WeakMap<CpuState, readonly string[]>();

function keysOf(c: CpuState): readonly string[] {
  let keys = fieldNames.get(c);
  if (!keys) {
    keys = Object.keys(c).filter((k) => !SKIP.has(k));
    fieldNames.set(c, keys);
  }
  return keys;
}

/** Copies every architectural field of a CPU (typed and plain arrays copied, caches left out). */
export function saveCpu(c: CpuState): CpuImage {
  const keys = keysOf(c);
  const src = c as unknown as Record<string, unknown>;
  const values = new Array<unknown>(keys.length);
  for (let i = 0; i < keys.length; i++) {
    const v = src[keys[i]!];
    values[i] = ArrayBuffer.isView(v) ? (v as Uint32Array).slice() : Array.isArray(v) ? v.slice() : v;
  }
  return { keys, values };
}

export function loadCpu(c: CpuState, img: CpuImage): void {
  const target = c as unknown as Record<string, unknown>;
  const { keys, values } = img;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    const v = values[i];
    const cur = target[k];
    if (ArrayBuffer.isView(cur)) (cur as Uint32Array).set(v as Uint32Array);
    else target[k] = Array.isArray(v) ? v.slice() : v;
  }
  c.flushTlb();
}

let ha = 0;
let hb = 0;

function mix(x: number): void {
  ha = Math.imul(ha ^ x, 0x85ebca6b);
  ha ^= ha >>> 13;
  hb = Math.imul(hb + x, 0xc2b2ae35) ^ (hb >>> 15);
}

/** Mixes a CPU's architectural state into two 32-bit lanes. */
export function hashCpu(c: CpuState, out: Int32Array): void {
  ha = Math.imul(c.id + 1, 0x9e3779b1);
  hb = Math.imul(c.id + 7, 0x85ebca6b);
  const lo = c.lo;
  const hi = c.hi;
  for (let i = 0; i < 16; i++) {
    mix(lo[i]!);
    mix(hi[i]!);
  }
  mix(c.ipLo);
  mix(c.ipHi);
  mix(c.rflags());
  mix(c.cpl | (c.cs << 2) | (c.ss << 18));
  mix(c.gsLo);
  mix(c.gsHi);
  mix(c.kgsLo);
  mix(c.kgsHi);
  mix(c.fsLo);
  mix(c.fsHi);
  mix(c.cr2Lo);
  mix(c.cr2Hi);
  mix(c.cr3);
  mix(c.idtLo);
  mix(c.idtHi);
  mix(c.idtLimit);
  if (c.tssInMemory) {
    mix(c.trLo);
    mix(c.trHi);
  }
  mix(c.state | (c.nmiBlocked ? 4 : 0) | (c.nmiPending ? 8 : 0));
  mix(c.irqCount);
  if (c.irqCount > 0) for (let v = 0; v < 256; v++) if (c.irq[v]) mix(v);
  mix(c.cycles | 0);
  mix((c.cycles / 4294967296) | 0);
  mix(c.serialSeq);
  for (let i = 0; i < c.ipiAt.length; i++) {
    mix(c.ipiAt[i]! | 0);
    mix(c.ipiWhat[i]!);
  }
  out[0] = ha;
  out[1] = hb;
}
