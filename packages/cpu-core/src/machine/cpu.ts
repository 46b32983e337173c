import type { Frame } from './frame.js';
import type { MachineCore } from './core.js';
import { CpuSlots, cpuViews, SLOT, STRIDE, TLB_SIZE } from './cpu-slots.js';
import type { CpuFile } from './cpu-slots.js';

export const RUNNING = 0;
export const HALTED = 1;
export const OFFLINE = 2;
export const DEAD = 3;

/** RFLAGS bits kept outside the six arithmetic flags. */
export const FL_TF = 1 << 8;
export const FL_IF = 1 << 9;
export const FL_DF = 1 << 10;
export const FL_NT = 1 << 14;
export const FL_RF = 1 << 16;


export type CpuStatus = 'running' | 'halted' | 'offline' | 'dead';
const STATUS: readonly CpuStatus[] = ['running', 'halted', 'offline', 'dead'];

/** An exception as it was raised: vector, error code (-1: none), the instruction pointer and why. */
export interface FaultRecord {
  readonly vector: number;
  readonly errorCode: number;
  readonly rip: bigint;
  readonly reason: string;
}

/** Per-CPU NMI bookkeeping: raised = delivered + dropped + (pending ? 1 : 0). */
export interface NmiCounters {
  readonly raised: number;
  readonly delivered: number;
  readonly latched: number;
  readonly dropped: number;
}

/**
 * The architectural state of one CPU. 64-bit values live as two unsigned 32-bit halves
 * (`lo`/`hi`) so the hot path never touches BigInt. Registers and most numeric state are in
 * the machine-wide buffer (`cpu-slots.ts`); here are the fields every instruction writes or
 * every step tests, and what is not a number (cached objects, pending IPIs, the last fault).
 */
export class CpuState extends CpuSlots {
  // Written by every instruction or tested at every step: plain fields (see cpu-slots.ts for why).
  state = OFFLINE;
  nmiPending = false;
  nmiBlocked = false;
  irqCount = 0;
  /** RFLAGS without the six arithmetic flags; bit 1 always set. */
  fl = 2;
  cpl = 0;
  ipLo = 0;
  ipHi = 0;
  cf = 0;
  pf = 0;
  af = 0;
  zf = 0;
  sf = 0;
  of = 0;
  /** Scratch: high half of the last 64-bit value read, effective address, result high half. */
  vh = 0;
  eaLo = 0;
  eaHi = 0;
  rh = 0;
  cycles = 0;
  instructions = 0;
  nextEvent = Infinity;
  /** Machine write sequence number at this CPU's last serializing event. */
  serialSeq = 0;
  /** Cached translation of the current code page (its virtual page number; -1: none). */
  codeVpn = -1;
  codeFrame: Frame | null = null;
  readonly lo: Uint32Array;
  readonly hi: Uint32Array;
  /** This CPU's read and write TLB tags (views of `tlbTags` for tests and tools; the bus indexes `tlbTags` itself). */
  readonly tlbR: Float64Array;
  readonly tlbW: Float64Array;
  /** The machine-wide TLB (`CpuFile`): tags (this CPU's reads at `tlbAt + slot`, writes at `tlbAt + TLB_SIZE + slot`) and frames (at `tlbAt / 2 + slot`). */
  readonly tlbTags: Float64Array;
  readonly tlbFrames: (Frame | null)[];
  readonly tlbAt: number;
  /**
   * The machine-wide register words and where this CPU's RSP low half is (its high half is 16
   * words on): push and pop reach RSP through the shared array, one dependent load fewer than
   * through this CPU's own `lo`/`hi` views, which matters when every step is another CPU's.
   */
  readonly regWords: Uint32Array;
  readonly rspAt: number;
  /** TSS: index 0 is sp0 (RSP0/esp0), 1..7 the IST stacks; lo/hi halves. */
  readonly tssLo: Uint32Array;
  readonly tssHi: Uint32Array;
  readonly nmi: Float64Array;
  #nmiCounts: NmiCounters | undefined;
  /** Pending maskable vectors (count per vector, 0/1) and how many are set. */
  readonly irq: Uint8Array;
  /** Exceptions raised per vector (0..255) and events delivered per vector (256..511). */
  readonly counts: Uint32Array;
  /** IPIs in flight to this CPU: arrival cycle (ascending) and what (sender * 512 + vector, or + 256 for an NMI). */
  ipiAt: number[] = [];
  ipiWhat: number[] = [];
  /** The most recent exception raised on this CPU. */
  lastFault: FaultRecord | null = null;
  deathReason = '';
  fReason = '';

  constructor(
    readonly id: number,
    readonly m: MachineCore,
    file: CpuFile,
  ) {
    super(file, id);
    const v = cpuViews(file, id);
    this.lo = v.lo;
    this.hi = v.hi;
    this.tlbR = v.tlbR;
    this.tlbW = v.tlbW;
    this.tlbTags = file.tlb;
    this.tlbFrames = file.tlbFrames;
    this.tlbAt = id * 2 * TLB_SIZE;
    this.regWords = file.U;
    this.rspAt = (id * STRIDE + SLOT.LO) / 4 + 4;
    this.tssLo = v.tssLo;
    this.tssHi = v.tssHi;
    this.nmi = v.nmi;
    this.irq = v.irq;
    this.counts = v.counts;
    this.cr0 = 0x80000011;
    this.nextNmi = Infinity;
    this.nextTimer = Infinity;
    this.fCode = -1;
  }

  flushTlb(): void {
    this.tlbR.fill(-1);
    this.tlbW.fill(-1);
    this.codeVpn = -1;
    this.codeFrame = null;
  }

  get status(): CpuStatus {
    return STATUS[this.state]!;
  }

  rflags(): number {
    return this.fl | this.cf | (this.pf << 2) | (this.af << 4) | (this.zf << 6) | (this.sf << 7) | (this.of << 11);
  }

  setRflags(v: number): void {
    this.cf = v & 1;
    this.pf = (v >>> 2) & 1;
    this.af = (v >>> 4) & 1;
    this.zf = (v >>> 6) & 1;
    this.sf = (v >>> 7) & 1;
    this.of = (v >>> 11) & 1;
    this.fl = (v & ~0x8d5) | 2;
  }

  /** The next cycle at which a timed source (NMI source, timer, IPI in flight) needs attention. */
  refreshNextEvent(): void {
    const ipi = this.ipiAt.length > 0 ? this.ipiAt[0]! : Infinity;
    this.nextEvent = Math.min(this.nextNmi, this.nextTimer, ipi);
  }

  /** Marks a serializing event: this CPU's view of code is refreshed. */
  serialize(): void {
    this.serialSeq = this.m.writeSeq;
  }

  /** The counts as an object; the same (immutable) object while they stay the same, since monitors read them at every step. */
  nmiCounters(): NmiCounters {
    const n = this.nmi;
    const k = this.#nmiCounts;
    if (k !== undefined && k.raised === n[0] && k.delivered === n[1] && k.latched === n[2] && k.dropped === n[3]) return k;
    return (this.#nmiCounts = Object.freeze({ raised: n[0]!, delivered: n[1]!, latched: n[2]!, dropped: n[3]! }));
  }
}
