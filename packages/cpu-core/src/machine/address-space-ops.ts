import { CpuError } from '../errors.js';
import { toLoHi } from './arch.js';
import type { ArchInfo } from './arch.js';
import { PTE_P, PTE_U, PTE_W } from './core.js';
import type { AddressSpace, LowerTable, MachineCore } from './core.js';
import type { Frame } from './frame.js';
import { tablesChanged } from './frame-image.js';
import type { MapOptions } from './machine-options.js';
import { address, byteArray, intIn, show } from './validate.js';

// The machine's page tables seen from outside the simulated CPUs: mapping, unmapping, and the
// reads and writes a user of the machine makes through a space's mapping (no fault, no TLB).

/** Rejects a virtual address that does not fit the arch or, on x86_64, is not canonical. */
export function checkVirt(bitness: 32 | 64, virt: bigint): void {
  address(virt, 'virtual address');
  const limit = bitness === 64 ? 1n << 64n : 1n << 32n;
  if (virt < 0n || virt >= limit) throw new CpuError('KERNSIM_CPU_BAD_ARGUMENT', `virtual address 0x${virt.toString(16)} does not fit ${bitness} bits`);
  if (bitness === 64) {
    const top = virt >> 47n;
    if (top !== 0n && top !== 0x1ffffn) throw new CpuError('KERNSIM_CPU_BAD_ARGUMENT', `virtual address 0x${virt.toString(16)} is not canonical`);
  }
}

/**
 * Maps `size` bytes (rounded out to pages) at `virt`. A pgd slot with no table gets a new one
 * in THIS space only: mapping into a fresh slot of the reference table is how vmalloc creates
 * mappings that tasks' tables lack until their #PF handler copies the pgd entry.
 */
export function mapPages(core: MachineCore, info: ArchInfo, space: AddressSpace, virt: bigint, size: number, options: MapOptions): void {
  if (size <= 0 || !Number.isInteger(size)) throw new CpuError('KERNSIM_CPU_BAD_ARGUMENT', `map size must be a positive integer, got ${size}`);
  checkVirt(info.bitness, virt);
  if (options.phys !== undefined && (address(options.phys, 'map phys') < 0n || (options.phys & 0xfffn) !== 0n)) throw new CpuError('KERNSIM_CPU_BAD_ARGUMENT', `map phys must be a non-negative page-aligned (4 KiB) physical address, got ${show(options.phys)}`);
  const first = virt >> 12n;
  const last = (virt + BigInt(size) - 1n) >> 12n;
  const flags = PTE_P | (options.writable === false ? 0 : PTE_W) | (options.user ? PTE_U : 0);
  const pgdPfn = Number(space.cr3 >> 12n);
  let phys = options.phys !== undefined ? Number(options.phys >> 12n) : -1;
  // Before the first change: a mapping that throws halfway still leaves the tables changed.
  tablesChanged(core);
  for (let vpnB = first; vpnB <= last; vpnB++) {
    const [lo, hi] = toLoHi(vpnB << 12n);
    const idx = core.pgdIndex(lo, hi);
    let e = core.readPgd(pgdPfn, idx);
    let t: LowerTable | undefined = (e & 1) !== 0 ? core.tables.get(e >>> 12) : undefined;
    if (t?.direct) throw new CpuError('KERNSIM_CPU_OVERLAP', `0x${virt.toString(16)} lies in the direct map of physical memory at PAGE_OFFSET`);
    if (!t) {
      const tp = core.newTable();
      e = (tp << 12) | PTE_P | PTE_W | (options.user ? PTE_U : 0);
      core.writePgd(pgdPfn, idx, e);
      t = core.tables.get(tp)!;
    } else if (options.user && (e & PTE_U) === 0) core.writePgd(pgdPfn, idx, e | PTE_U);
    const f = phys >= 0 ? core.frameAt(phys++) : core.allocFrame();
    t.ptes.set(Number(vpnB & 0xfffffffffffffn), f.pfn * 8 + flags);
  }
  core.flushAllTlbs();
}

/** Removes mappings (pages not mapped are ignored). */
export function unmapPages(core: MachineCore, space: AddressSpace, virt: bigint, size: number): void {
  const pgdPfn = Number(space.cr3 >> 12n);
  tablesChanged(core);
  for (let vpnB = virt >> 12n; vpnB <= (virt + BigInt(size) - 1n) >> 12n; vpnB++) {
    const [lo, hi] = toLoHi(vpnB << 12n);
    const e = core.readPgd(pgdPfn, core.pgdIndex(lo, hi));
    const t = (e & 1) !== 0 ? core.tables.get(e >>> 12) : undefined;
    if (t && !t.direct) t.ptes.delete(Number(vpnB & 0xfffffffffffffn));
  }
  core.flushAllTlbs();
}

/** Physical frame behind a virtual address, or undefined when unmapped (no fault, no side effect). */
export function lookupPage(core: MachineCore, virt: bigint, space: AddressSpace): { f: Frame; off: number } | undefined {
  const lo = Number(virt & 0xffffffffn);
  const f = frameOf(core, lo, Number((virt >> 32n) & 0xffffffffn), space);
  return f ? { f, off: lo & 0xfff } : undefined;
}

/** The frame mapped at the page of (lo, hi), a virtual address as two 32-bit halves (no bigint, no object: reads from outside run at every explored state). */
function frameOf(core: MachineCore, lo: number, hi: number, space: AddressSpace): Frame | undefined {
  // CR3 is below 2^52: Number() of it is exact and makes no bigint.
  const e = core.readPgd(Math.floor(Number(space.cr3) / 4096), core.pgdIndex(lo, hi));
  if ((e & 1) === 0) return undefined;
  const t = core.tables.get(e >>> 12);
  if (!t) return undefined;
  const vpn = hi * 1048576 + (lo >>> 12);
  if (t.direct) return core.frames.get(vpn - core.directBaseVpn);
  const pte = t.ptes.get(vpn);
  return pte === undefined ? undefined : core.frames.get(Math.floor(pte / 8));
}

/** Writes bytes through a space's mapping (from outside the machine: counts as a write by no CPU). */
export function writeThrough(core: MachineCore, virt: bigint, bytes: ArrayLike<number>, space: AddressSpace): void {
  address(virt, 'writeBytes address');
  byteArray(bytes, 'writeBytes bytes');
  for (let i = 0; i < bytes.length; ) {
    const a = virt + BigInt(i);
    const r = lookupPage(core, a, space);
    if (!r) throw new CpuError('KERNSIM_CPU_UNMAPPED', `write to 0x${a.toString(16)}: expected a mapped page, found none`);
    const n = Math.min(bytes.length - i, 4096 - r.off);
    core.pokeBytes(r.f, r.off, Array.prototype.slice.call(bytes, i, i + n) as number[]);
    i += n;
  }
}

/** Reads bytes through a space's mapping. */
export function readThrough(core: MachineCore, virt: bigint, length: number, space: AddressSpace): Uint8Array {
  address(virt, 'readBytes address');
  intIn(length, 0, core.maxFrames * 4096, 'readBytes length');
  const out = new Uint8Array(length);
  let lo = Number(virt & 0xffffffffn);
  let hi = Number((virt >> 32n) & 0xffffffffn);
  for (let i = 0; i < length; ) {
    const f = frameOf(core, lo, hi, space);
    if (!f) throw new CpuError('KERNSIM_CPU_UNMAPPED', `read of 0x${((virt + BigInt(i)) & 0xffffffffffffffffn).toString(16)}: expected a mapped page, found none`);
    const off = lo & 0xfff;
    const n = Math.min(length - i, 4096 - off);
    const d = f.data;
    // A few bytes (a word the explorer's invariants read at every state) cost less copied than through a subarray.
    if (n <= 16) for (let j = 0; j < n; j++) out[i + j] = d[off + j]!;
    else out.set(d.subarray(off, off + n), i);
    i += n;
    lo += n;
    if (lo >= 4294967296) {
      lo -= 4294967296;
      hi = (hi + 1) >>> 0;
    }
  }
  return out;
}
