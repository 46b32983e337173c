import { fault, rd, translate, wr } from './bus.js';
import type { CpuState } from './cpu.js';

/**
 * The IDT lives in simulated memory, as on the hardware: each CPU's IDTR (base, limit) names
 * a table of gate descriptors, `lidt`/`sidt` load and store it, and every delivery reads the
 * gate for its vector from memory. x86_64 gates are 16 bytes, i386 gates 8 (SDM vol. 3, 6.11
 * and 6.14.1):
 *
 *   +0  offset 15..0          +2  selector
 *   +4  bits 2..0 IST (x86_64), bits 11..8 type (0xe interrupt, 0xf trap), 14..13 DPL, 15 P
 *   +6  offset 31..16         +8  offset 63..32 (x86_64)   +12 reserved
 */
export const GATE_INTERRUPT = 0xe;
export const GATE_TRAP = 0xf;

/** Physical address of the machine's default IDT (boot IDTRs point at it through the direct map). */
export const DEFAULT_IDT_PHYS = 0x1000;

export const gateSize = (is64: boolean): number => (is64 ? 16 : 8);

/** A gate as the API sees it. */
export interface GateFields {
  readonly handler: bigint;
  readonly selector: number;
  readonly dpl: number;
  readonly ist: number;
  readonly type: number;
  readonly present: boolean;
}

/** The bytes of one gate descriptor. */
export function encodeGate(is64: boolean, g: GateFields): number[] {
  const out = new Array<number>(gateSize(is64)).fill(0);
  const put = (off: number, size: number, v: bigint): void => {
    for (let i = 0; i < size; i++) out[off + i] = Number((v >> BigInt(8 * i)) & 0xffn);
  };
  put(0, 2, g.handler & 0xffffn);
  put(2, 2, BigInt(g.selector));
  out[4] = is64 ? g.ist & 7 : 0;
  out[5] = (g.type & 0xf) | ((g.dpl & 3) << 5) | (g.present ? 0x80 : 0);
  put(6, 2, (g.handler >> 16n) & 0xffffn);
  if (is64) put(8, 4, (g.handler >> 32n) & 0xffffffffn);
  return out;
}

export function decodeGate(is64: boolean, b: ArrayLike<number>): GateFields {
  const u = (off: number, size: number): bigint => {
    let v = 0n;
    for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[off + i]!);
    return v;
  };
  const handler = u(0, 2) | (u(6, 2) << 16n) | (is64 ? u(8, 4) << 32n : 0n);
  const attr = b[5]!;
  return { handler, selector: Number(u(2, 2)), dpl: (attr >> 5) & 3, ist: is64 ? b[4]! & 7 : 0, type: attr & 0x1f, present: (attr & 0x80) !== 0 };
}

/** Linear address base + off as (lo, hi) halves, wrapping at 32 bits on i386. */
function addr(c: CpuState, baseLo: number, baseHi: number, off: number): void {
  const l = baseLo + off;
  c.eaLo = l >>> 0;
  c.eaHi = c.m.is64 ? (baseHi + (l > 0xffffffff ? 1 : 0)) >>> 0 : 0;
}

/** `lidt m`: loads the IDTR from a pseudo-descriptor (2-byte limit, then a 4- or 8-byte base); CPL 0 only, serializing. */
export function lidt(c: CpuState, o16: boolean): void {
  if (c.cpl !== 0) fault(c, 13, 0, 'lidt at CPL 3');
  const lo = c.eaLo;
  const hi = c.eaHi;
  const limit = rd(c, lo, hi, 2);
  addr(c, lo, hi, 2);
  const bLo = rd(c, c.eaLo, c.eaHi, 4);
  let bHi = 0;
  if (c.m.is64) {
    addr(c, lo, hi, 6);
    bHi = rd(c, c.eaLo, c.eaHi, 4);
  }
  c.idtLimit = limit;
  c.idtLo = o16 ? bLo & 0xffffff : bLo;
  c.idtHi = bHi;
  c.serialize();
}

/** `sidt m`: stores the IDTR as a pseudo-descriptor (allowed at any CPL: no UMIP in this model). */
export function sidt(c: CpuState): void {
  const lo = c.eaLo;
  const hi = c.eaHi;
  // Translate the last byte first so a fault on a second page leaves memory untouched.
  addr(c, lo, hi, c.m.is64 ? 9 : 5);
  translate(c, c.eaLo, c.eaHi, 1);
  wr(c, lo, hi, 2, c.idtLimit, 0);
  addr(c, lo, hi, 2);
  wr(c, c.eaLo, c.eaHi, c.m.is64 ? 8 : 4, c.idtLo, c.idtHi);
}

/** Scratch for the gate read by `readGate`. */
export interface GateRead {
  handlerLo: number;
  handlerHi: number;
  selector: number;
  dpl: number;
  ist: number;
  trap: boolean;
  present: boolean;
  type: number;
}

/**
 * Reads the gate for `vector` from the CPU's IDT (supervisor accesses through paging; the caller
 * has switched to CPL 0). A vector beyond the limit is #GP(vector*8+2+EXT).
 */
export function readGate(c: CpuState, vector: number, ext: number, out: GateRead): void {
  const is64 = c.m.is64;
  const size = gateSize(is64);
  if (vector * size + size - 1 > c.idtLimit) fault(c, 13, vector * 8 + 2 + ext, `vector ${vector} lies beyond the IDT limit 0x${c.idtLimit.toString(16)}`);
  addr(c, c.idtLo, c.idtHi, vector * size);
  const lo = c.eaLo;
  const hi = c.eaHi;
  const w0 = rd(c, lo, hi, 4);
  addr(c, lo, hi, 4);
  const w1 = rd(c, c.eaLo, c.eaHi, 4);
  let w2 = 0;
  if (is64) {
    addr(c, lo, hi, 8);
    w2 = rd(c, c.eaLo, c.eaHi, 4);
  }
  out.handlerLo = ((w1 & 0xffff0000) | (w0 & 0xffff)) >>> 0;
  out.handlerHi = w2 >>> 0;
  out.selector = w0 >>> 16;
  out.type = (w1 >>> 8) & 0x1f;
  out.dpl = (w1 >>> 13) & 3;
  out.present = (w1 & 0x8000) !== 0;
  out.ist = is64 ? w1 & 7 : 0;
  out.trap = out.type === GATE_TRAP;
}

/** TSS offsets (SDM vol. 3, 8.7): RSP0/ESP0 at +4; x86_64 IST n at +0x24 + 8*(n-1). */
export const tssOffset = (slot: number): number => (slot === 0 ? 4 : 0x24 + 8 * (slot - 1));

/** Reads TSS slot 0 (sp0) or IST 1..7 into c.eaLo/c.eaHi, from memory when the CPU's TSS lives there. */
export function readTssStack(c: CpuState, slot: number): void {
  if (!c.tssInMemory) {
    c.eaLo = c.tssLo[slot]!;
    c.eaHi = c.tssHi[slot]!;
    return;
  }
  addr(c, c.trLo, c.trHi, tssOffset(slot));
  const lo = c.eaLo;
  const hi = c.eaHi;
  const vLo = rd(c, lo, hi, 4);
  let vHi = 0;
  if (c.m.is64) {
    addr(c, lo, hi, 4);
    vHi = rd(c, c.eaLo, c.eaHi, 4);
  }
  c.eaLo = vLo;
  c.eaHi = vHi;
}
