import { VECTOR } from './arch.js';
import type { CpuState } from './cpu.js';
import { TLB_SIZE } from './cpu-slots.js';
import { invalidateOps } from './core.js';
import { F_CLEAN, F_CODE, F_PGD, F_SHARED, F_WATCH } from './frame.js';
import type { Frame } from './frame.js';
import { FAULT } from './op.js';
import { chargeStore } from './timing/lines.js';

const TLB_MASK = TLB_SIZE - 1;

/**
 * TLB slot of a page: low page-number bits folded with higher ones, so pages at the same
 * offset in different 256 KiB-aligned areas (text, data, stacks, per-CPU areas) do not
 * all land in slot 0 and evict each other.
 */
const tlbSlot = (lo: number): number => {
  const v = lo >>> 12;
  return (v ^ (v >>> 6) ^ (v >>> 12)) & TLB_MASK;
};

/** Raises an exception on the CPU: records vector and error code, then unwinds the instruction. */
export function fault(c: CpuState, vector: number, code: number, reason: string): never {
  c.fVector = vector;
  c.fCode = code;
  c.fReason = reason;
  // eslint-disable-next-line @typescript-eslint/only-throw-error -- one preallocated sentinel keeps faults allocation-free
  throw FAULT;
}

function pageFault(c: CpuState, lo: number, hi: number, err: number, reason: string): never {
  c.cr2Lo = lo >>> 0;
  c.cr2Hi = hi >>> 0;
  return fault(c, 14, err, reason);
}

/** Walks the page tables for an access (0 read, 1 write, 2 fetch); fills the TLB; faults as the hardware would. */
export function translate(c: CpuState, lo: number, hi: number, acc: number): Frame {
  const m = c.m;
  if (m.is64) {
    const s = hi >> 15;
    if (s !== 0 && s !== -1) fault(c, 13, 0, 'non-canonical address');
  }
  const vpn = hi * 1048576 + (lo >>> 12);
  const user = c.cpl === 3 ? 4 : 0;
  const errBase = user | (acc === 1 ? 2 : 0) | (acc === 2 ? 16 : 0);
  const e = m.readPgd(c.cr3 >>> 12, m.pgdIndex(lo, hi));
  if ((e & 1) === 0) pageFault(c, lo, hi, errBase, 'pgd entry not present');
  const t = m.tables.get(e >>> 12);
  if (t === undefined) pageFault(c, lo, hi, errBase, 'pgd entry points at no page table');
  let f: Frame | undefined;
  let perm: number;
  if (t.direct) {
    f = m.frames.get(vpn - m.directBaseVpn);
    perm = e & 2;
  } else {
    const pte = t.ptes.get(vpn);
    if (pte !== undefined) f = m.frames.get(Math.floor(pte / 8));
    perm = e & (pte ?? 0) & 6;
  }
  if (f === undefined) return pageFault(c, lo, hi, errBase, 'page not present');
  if (user !== 0 && (perm & 4) === 0) pageFault(c, lo, hi, errBase | 1, 'user access to a supervisor page');
  if (acc === 1 && (perm & 2) === 0) pageFault(c, lo, hi, errBase | 1, 'write to a read-only page');
  const slot = tlbSlot(lo);
  const at = c.tlbAt + slot;
  c.tlbFrames[(c.tlbAt >> 1) + slot] = f;
  c.tlbTags[at] = vpn;
  c.tlbTags[at + TLB_SIZE] = (perm & 2) !== 0 ? vpn : -1;
  return f;
}

/**
 * The frame holding `lo:hi` for an access (`acc` 0 read, 1 write, 2 fetch): the TLB's entry when
 * it holds the page — the write tags for a write; a read entry serves a fetch, the checks differ
 * only for writes — else a walk, which raises that access's #PF.
 */
export function pageFrame(c: CpuState, lo: number, hi: number, acc: number): Frame {
  const slot = tlbSlot(lo);
  return c.tlbTags[c.tlbAt + (acc === 1 ? TLB_SIZE : 0) + slot] === hi * 1048576 + (lo >>> 12) ? c.tlbFrames[(c.tlbAt >> 1) + slot]! : translate(c, lo, hi, acc);
}

/** Reads `size` bytes (1, 2, 4, 8) little-endian; returns the low 32 bits, the high half goes to `c.vh`. */
export function rd(c: CpuState, lo: number, hi: number, size: number): number {
  const off = lo & 0xfff;
  if (off + size > 4096) return rdCross(c, lo, hi, size);
  const f = pageFrame(c, lo, hi, 0);
  const d = f.data;
  if (size === 4) return (off & 3) === 0 ? f.words[off >>> 2]! >>> 0 : (d[off]! | (d[off + 1]! << 8) | (d[off + 2]! << 16) | (d[off + 3]! << 24)) >>> 0;
  if (size === 8) {
    if ((off & 7) === 0) {
      c.vh = f.words[(off >>> 2) + 1]! >>> 0;
      return f.words[off >>> 2]! >>> 0;
    }
    c.vh = (d[off + 4]! | (d[off + 5]! << 8) | (d[off + 6]! << 16) | (d[off + 7]! << 24)) >>> 0;
    return (d[off]! | (d[off + 1]! << 8) | (d[off + 2]! << 16) | (d[off + 3]! << 24)) >>> 0;
  }
  if (size === 1) return d[off]!;
  return d[off]! | (d[off + 1]! << 8);
}

/**
 * `rd` for the common load — aligned 4 or 8 bytes, a TLB hit — small enough for V8 to inline
 * into its caller, so the address and the value stay unboxed; any other load (other sizes
 * included) goes to `rd` (the same bytes, the same `c.vh`).
 */
export function rdFast(c: CpuState, lo: number, hi: number, size: number): number {
  const off = lo & 0xfff;
  const slot = tlbSlot(lo);
  if ((size === 8 || size === 4) && (off & (size - 1)) === 0 && c.tlbTags[c.tlbAt + slot] === hi * 1048576 + (lo >>> 12)) {
    const w = c.tlbFrames[(c.tlbAt >> 1) + slot]!.words;
    if (size === 8) c.vh = w[(off >>> 2) + 1]! >>> 0;
    return w[off >>> 2]! >>> 0;
  }
  // `rd` returns an unsigned 32-bit value already: saying so lets V8 keep the result unboxed where
  // it meets the hit above (measured: every `ret` boxed its return address as a heap number).
  return rd(c, lo, hi, size) >>> 0;
}

/** i386: an access running past 4 GiB exceeds the flat segment's limit: #GP before any paging check. */
function wrapCheck(c: CpuState, lo: number, size: number): void {
  if (!c.m.is64 && lo + size > 0x100000000) fault(c, VECTOR.GP, 0, 'access wraps past the 4 GiB segment limit');
}

function rdCross(c: CpuState, lo: number, hi: number, size: number): number {
  wrapCheck(c, lo, size);
  let vlo = 0;
  let vhi = 0;
  for (let i = 0; i < size; i++) {
    const a = (lo + i) >>> 0;
    const h = a < lo ? (hi + 1) >>> 0 : hi;
    const b = rd(c, a, h, 1);
    if (i < 4) vlo |= b << (8 * i);
    else vhi |= b << (8 * (i - 4));
  }
  c.vh = vhi >>> 0;
  return vlo >>> 0;
}

/** Writes `size` bytes little-endian from (vlo, vhi). */
export function wr(c: CpuState, lo: number, hi: number, size: number, vlo: number, vhi: number): void {
  const off = lo & 0xfff;
  if (off + size > 4096) {
    wrCross(c, lo, hi, size, vlo, vhi);
    return;
  }
  const f = pageFrame(c, lo, hi, 1);
  if (c.m.lines && f.lineOwner?.[off >>> 6] !== c.id + 1) chargeStore(c, f, off);
  if (f.flags !== 0) {
    wrSlow(c, f, off, size, vlo, vhi);
    return;
  }
  const d = f.data;
  if (size === 8 && (off & 7) === 0) {
    f.words[off >>> 2] = vlo;
    f.words[(off >>> 2) + 1] = vhi;
  } else if (size === 4 && (off & 3) === 0) {
    f.words[off >>> 2] = vlo;
  } else {
    for (let i = 0; i < size; i++) d[off + i] = i < 4 ? vlo >>> (8 * i) : vhi >>> (8 * (i - 4));
  }
  if (f.dirtyMask === 0) c.m.dirtyFrames.push(f);
  f.dirtyMask |= (1 << (off >>> 8)) | (1 << ((off + size - 1) >>> 8));
}

/**
 * `wr` for the common store — aligned 4 or 8 bytes, a TLB hit, a plain page, a line this CPU
 * owns — small enough for V8 to inline into its caller; any other store (other sizes included)
 * goes to `wr` (nothing is changed before that choice, so the result is `wr`'s).
 */
export function wrFast(c: CpuState, lo: number, hi: number, size: number, vlo: number, vhi: number): void {
  const off = lo & 0xfff;
  const slot = tlbSlot(lo);
  if ((size === 8 || size === 4) && (off & (size - 1)) === 0 && c.tlbTags[c.tlbAt + TLB_SIZE + slot] === hi * 1048576 + (lo >>> 12)) {
    const f = c.tlbFrames[(c.tlbAt >> 1) + slot]!;
    if (f.flags === 0 && (!c.m.lines || f.lineOwner?.[off >>> 6] === c.id + 1)) {
      f.words[off >>> 2] = vlo;
      if (size === 8) f.words[(off >>> 2) + 1] = vhi;
      if (f.dirtyMask === 0) c.m.dirtyFrames.push(f);
      f.dirtyMask |= 1 << (off >>> 8);
      return;
    }
  }
  wr(c, lo, hi, size, vlo, vhi);
}

function wrCross(c: CpuState, lo: number, hi: number, size: number, vlo: number, vhi: number): void {
  wrapCheck(c, lo, size);
  // Translate every byte first so a fault on the second page leaves memory untouched.
  const frames: Frame[] = [];
  for (let i = 0; i < size; i++) {
    const a = (lo + i) >>> 0;
    frames.push(translate(c, a, a < lo ? (hi + 1) >>> 0 : hi, 1));
  }
  // A store that straddles two pages takes ownership of its first line, as one on one page does.
  const first = frames[0]!;
  if (c.m.lines && first.lineOwner?.[(lo & 0xfff) >>> 6] !== c.id + 1) chargeStore(c, first, lo & 0xfff);
  for (let i = 0; i < size; i++) {
    const b = i < 4 ? (vlo >>> (8 * i)) & 0xff : (vhi >>> (8 * (i - 4))) & 0xff;
    wrSlow(c, frames[i]!, (lo + i) & 0xfff, 1, b, 0);
  }
}

function wrSlow(c: CpuState, f: Frame, off: number, size: number, vlo: number, vhi: number): void {
  const m = c.m;
  if ((f.flags & (F_SHARED | F_CLEAN)) !== 0) f.release();
  const d = f.data;
  const code = (f.flags & F_CODE) !== 0;
  const seq = code ? ++m.writeSeq : 0;
  for (let i = 0; i < size; i++) {
    const v = (i < 4 ? vlo >>> (8 * i) : vhi >>> (8 * (i - 4))) & 0xff;
    const o = off + i;
    if (code && d[o] !== v) {
      f.logOff.push(o);
      f.logOld.push(d[o]!);
      f.logSeq.push(seq);
      f.logCpu.push(c.id);
      f.lastWriteSeq = seq;
      invalidateOps(f, o);
    }
    d[o] = v;
  }
  m.markDirty(f, off, size);
  if ((f.flags & F_PGD) !== 0) m.flushAllTlbs();
  if ((f.flags & F_WATCH) !== 0 && m.tracer !== null) m.tracer.watchedWrite(c, f, off, size, vlo, vhi);
}
