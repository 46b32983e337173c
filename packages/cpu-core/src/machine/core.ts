import { CpuError } from '../errors.js';
import type { ArchInfo } from './arch.js';
import type { CpuState } from './cpu.js';
import { CpuFile } from './cpu-slots.js';
import { F_CLEAN, F_PGD, F_SHARED, F_TABLE, Frame, PAGE } from './frame.js';
import type { Timing } from './timing/model.js';
import type { Tracer } from './tracer.js';

/** A lower-level page table: a map from virtual page number to pte (pfn * 8 + P|W|U bits), or the direct map. */
export interface LowerTable {
  readonly direct: boolean;
  readonly ptes: Map<number, number>;
}

/** One address space (an `mm`): its pgd lives in a physical frame that CR3 points to. */
export interface AddressSpace {
  readonly id: number;
  /** The CR3 value selecting this space (physical address of its pgd). */
  readonly cr3: bigint;
  /** Kernel virtual address of the pgd (through the direct map), for machine code to read and write. */
  readonly pgd: bigint;
}

/** Called when a CPU is about to execute an instruction in a watched range, with the bytes it executes. */
export type ExecCallback = (cpu: number, rip: bigint, bytes: Uint8Array) => void;

export interface ExecWatch {
  readonly phys: number;
  readonly len: number;
  readonly callback: ExecCallback;
}

export const PTE_P = 1;
export const PTE_W = 2;
export const PTE_U = 4;

/** Machine-wide state shared by all CPUs: physical memory, page tables, devices' sinks. */
export class MachineCore {
  readonly frames = new Map<number, Frame>();
  readonly tables = new Map<number, LowerTable>();
  readonly spaces: AddressSpace[] = [];
  readonly cpus: CpuState[] = [];
  /** Every CPU's numeric state in one buffer (`cpu-slots.ts`). */
  readonly cpuFile: CpuFile;
  readonly is64: boolean;
  nextPfn = 256;
  writeSeq = 1;
  readonly dirtyFrames: Frame[] = [];
  memH1 = 0;
  memH2 = 0;
  console = '';
  /** Watched physical byte ranges [pfn*4096+off, len, label]. */
  readonly watches: { phys: number; len: number; label: string }[] = [];
  /** Execution watches: physical byte ranges and who to tell when a CPU executes an instruction starting there. */
  readonly execWatches: ExecWatch[] = [];
  tracer: Tracer | null = null;
  readonly directTable: LowerTable = { direct: true, ptes: new Map() };
  /** Stores track cache-line ownership (the modelled timing); kept here so the store path reads one field. */
  readonly lines: boolean;
  directBaseVpn: number;
  /** Run hot code as basic blocks (`execution: 'blocks'`, the default) or every instruction through the interpreter. */
  blocks = true;

  constructor(
    readonly info: ArchInfo,
    readonly timing: Timing,
    readonly serialCyclesPerByte: number,
    readonly maxFrames: number,
    /** Cross-modified code: raise #GP (the strict detector) or execute the bytes as they are now. */
    readonly tornCode: boolean,
    cpus: number,
  ) {
    this.cpuFile = new CpuFile(cpus);
    this.is64 = info.bitness === 64;
    this.lines = timing.lines;
    this.directBaseVpn = Number(info.pageOffset >> 12n);
  }

  frame(pfn: number): Frame | undefined {
    return this.frames.get(pfn);
  }

  allocFrame(flags = 0): Frame {
    while (this.frames.has(this.nextPfn)) this.nextPfn++;
    if (this.frames.size >= this.maxFrames) {
      throw new CpuError('KERNSIM_CPU_CONFIG', `physical memory exhausted: ${this.maxFrames} frames of 4 KiB in use`);
    }
    const f = new Frame(this.nextPfn++);
    f.flags = flags;
    this.frames.set(f.pfn, f);
    return f;
  }

  frameAt(pfn: number): Frame {
    let f = this.frames.get(pfn);
    if (!f) {
      if (pfn >= 1 << 20 || pfn < 0) throw new CpuError('KERNSIM_CPU_BAD_ARGUMENT', `physical frame 0x${pfn.toString(16)} is outside the 4 GiB physical space`);
      f = new Frame(pfn);
      this.frames.set(pfn, f);
    }
    return f;
  }

  flushAllTlbs(): void {
    for (const c of this.cpus) c.flushTlb();
  }

  pgdIndex(lo: number, hi: number): number {
    return this.is64 ? (hi >>> 7) & 511 : lo >>> 22;
  }

  readPgd(pgdPfn: number, idx: number): number {
    const f = this.frames.get(pgdPfn);
    if (!f) return 0;
    const o = idx * this.info.pgdEntrySize;
    return (f.data[o]! | (f.data[o + 1]! << 8) | (f.data[o + 2]! << 16) | (f.data[o + 3]! << 24)) >>> 0;
  }

  /** Writes a pgd entry from the API side (hash-visible). */
  writePgd(pgdPfn: number, idx: number, value: number): void {
    const f = this.frameAt(pgdPfn);
    const o = idx * this.info.pgdEntrySize;
    this.pokeBytes(f, o, [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, value >>> 24]);
  }

  /** API-side byte write to a frame: keeps hashes, code logs and copy-on-write right. */
  pokeBytes(f: Frame, off: number, bytes: ArrayLike<number>): void {
    if ((f.flags & (F_SHARED | F_CLEAN)) !== 0) f.release();
    const seq = ++this.writeSeq;
    for (let i = 0; i < bytes.length; i++) {
      const o = off + i;
      const old = f.data[o]!;
      const v = bytes[i]! & 0xff;
      if (f.ops !== null) {
        f.logOff.push(o);
        f.logOld.push(old);
        f.logSeq.push(seq);
        f.logCpu.push(-1);
        f.lastWriteSeq = seq;
        invalidateOps(f, o);
      }
      f.data[o] = v;
    }
    this.markDirty(f, off, bytes.length);
    if (f.flags & F_PGD) this.flushAllTlbs();
  }

  markDirty(f: Frame, off: number, len: number): void {
    if (f.dirtyMask === 0) this.dirtyFrames.push(f);
    const first = off >>> 8;
    const last = (off + len - 1) >>> 8;
    for (let k = first; k <= last; k++) f.dirtyMask |= 1 << k;
  }

  newPgdFrame(): Frame {
    return this.allocFrame(F_PGD);
  }

  newTable(): number {
    const f = this.allocFrame(F_TABLE);
    this.tables.set(f.pfn, { direct: false, ptes: new Map() });
    return f.pfn;
  }

  /** Physical address -> the kernel virtual address of the direct map. */
  directVirt(phys: bigint): bigint {
    return this.info.pageOffset + phys;
  }

  pageBytes(): number {
    return PAGE;
  }
}

/** Drops decoded instructions that could contain byte `off` of the frame. */
export function invalidateOps(f: Frame, off: number): void {
  const ops = f.ops;
  if (ops === null) return;
  f.blocks = null;
  for (let o = off < 15 ? 0 : off - 14; o <= off; o++) {
    const op = ops[o];
    if (op !== undefined && o + op.len > off) ops[o] = undefined;
  }
}
