/*
 * Flat per-CPU state. A CPU's registers and the numeric state that is not touched by every
 * instruction live in one machine-wide buffer, a fixed stride per CPU with what the step
 * loop reads first (GS/FS bases, CR3, then the sixteen registers: the first three cache
 * lines), so round-robin over thousands of CPUs reads a few contiguous lines per CPU instead
 * of an object's boxed doubles (V8 boxes every field above 2^30, each box its own heap
 * object) and ten typed arrays each with its own backing store.
 * `CpuSlots` keeps the field names the interpreter, the templates and the views use, as
 * accessors onto the CPU's slot (V8 inlines them). What every instruction writes or every
 * fetch reads (RIP, the clock, the six flags, the scratch, the cached code page, the
 * serializing sequence) and the small integers every step tests stay plain fields on
 * `CpuState`: measured, moving those behind accessors too made the block loop three times
 * slower, while moving the rest made the 4096-CPU round-robin kernel mix 1.1–1.6× faster
 * (README, *Performance*).
 * A snapshot of all CPUs is then a copy of the buffers plus those few fields.
 */

import type { Frame } from './frame.js';

/** Byte offsets in a CPU's stride (the accessors below hold the scalars' offsets as literals). */
export const SLOT = { LO: 64, HI: 128, NMI: 432, TSS_LO: 520, TSS_HI: 552 } as const;
/** Bytes per CPU in the state buffer: a multiple of 64, so every CPU starts on a cache line. */
export const STRIDE = 640;
export const TLB_SIZE = 64;
/** Per CPU in the events buffer: exceptions raised and events delivered per vector (512 × u32), then the pending-vector bytes (256). */
const COUNTS_BYTES = 2048;
const EVENTS_STRIDE = COUNTS_BYTES + 256;

/**
 * The machine-wide buffers: architectural state, events (counts, pending IRQs), and the TLB
 * (a cache, not state): per CPU 64 read tags then 64 write tags in `tlb`, and the 64 frames
 * they name in `tlbFrames`. The store and load paths index the machine-wide arrays directly
 * (`CpuState.tlbAt`): a lookup on a CPU that did not run last then misses on the entry's own
 * cache lines only, not first on a per-CPU view object and a per-CPU array of frames.
 */
export class CpuFile {
  readonly state: Uint8Array;
  readonly F: Float64Array;
  readonly I: Int32Array;
  readonly U: Uint32Array;
  readonly events: Uint8Array;
  readonly tlb: Float64Array;
  readonly tlbFrames: (Frame | null)[];

  constructor(readonly cpus: number) {
    const buf = new ArrayBuffer(cpus * STRIDE);
    this.state = new Uint8Array(buf);
    this.F = new Float64Array(buf);
    this.I = new Int32Array(buf);
    this.U = new Uint32Array(buf);
    this.events = new Uint8Array(cpus * EVENTS_STRIDE);
    this.tlb = new Float64Array(cpus * 2 * TLB_SIZE).fill(-1);
    this.tlbFrames = new Array<Frame | null>(cpus * TLB_SIZE).fill(null);
  }
}

/** The typed-array views one CPU keeps into the machine-wide buffers. */
export function cpuViews(file: CpuFile, id: number) {
  const buf = file.state.buffer;
  const at = id * STRIDE;
  const ev = file.events.buffer;
  const tlb = file.tlb.buffer;
  return {
    lo: new Uint32Array(buf, at + SLOT.LO, 16),
    hi: new Uint32Array(buf, at + SLOT.HI, 16),
    nmi: new Float64Array(buf, at + SLOT.NMI, 4),
    tssLo: new Uint32Array(buf, at + SLOT.TSS_LO, 8),
    tssHi: new Uint32Array(buf, at + SLOT.TSS_HI, 8),
    counts: new Uint32Array(ev, id * EVENTS_STRIDE, 512),
    irq: new Uint8Array(ev, id * EVENTS_STRIDE + COUNTS_BYTES, 256),
    tlbR: new Float64Array(tlb, id * 2 * TLB_SIZE * 8, TLB_SIZE),
    tlbW: new Float64Array(tlb, (id * 2 + 1) * TLB_SIZE * 8, TLB_SIZE),
  };
}

/** A CPU's scalar fields as accessors onto its slot in the machine-wide buffer. */
export class CpuSlots {
  /** The machine-wide float64 and int32 views, and this CPU's first index in each. */
  protected readonly F: Float64Array;
  protected readonly I: Int32Array;
  protected readonly f: number;
  protected readonly i: number;

  constructor(file: CpuFile, id: number) {
    this.F = file.F;
    this.I = file.I;
    this.f = (id * STRIDE) / 8;
    this.i = (id * STRIDE) / 4;
  }

  get gsLo(): number { return this.F[this.f + 0]!; }
  set gsLo(v: number) { this.F[this.f + 0] = v; }
  get gsHi(): number { return this.F[this.f + 1]!; }
  set gsHi(v: number) { this.F[this.f + 1] = v; }
  get fsLo(): number { return this.F[this.f + 2]!; }
  set fsLo(v: number) { this.F[this.f + 2] = v; }
  get fsHi(): number { return this.F[this.f + 3]!; }
  set fsHi(v: number) { this.F[this.f + 3] = v; }
  get cr3(): number { return this.F[this.f + 4]!; }
  set cr3(v: number) { this.F[this.f + 4] = v; }
  get kgsLo(): number { return this.F[this.f + 24]!; }
  set kgsLo(v: number) { this.F[this.f + 24] = v; }
  get kgsHi(): number { return this.F[this.f + 25]!; }
  set kgsHi(v: number) { this.F[this.f + 25] = v; }
  get cr0(): number { return this.F[this.f + 26]!; }
  set cr0(v: number) { this.F[this.f + 26] = v; }
  get cr2Lo(): number { return this.F[this.f + 27]!; }
  set cr2Lo(v: number) { this.F[this.f + 27] = v; }
  get cr2Hi(): number { return this.F[this.f + 28]!; }
  set cr2Hi(v: number) { this.F[this.f + 28] = v; }
  get cr4(): number { return this.F[this.f + 29]!; }
  set cr4(v: number) { this.F[this.f + 29] = v; }
  get starLo(): number { return this.F[this.f + 30]!; }
  set starLo(v: number) { this.F[this.f + 30] = v; }
  get starHi(): number { return this.F[this.f + 31]!; }
  set starHi(v: number) { this.F[this.f + 31] = v; }
  get lstarLo(): number { return this.F[this.f + 32]!; }
  set lstarLo(v: number) { this.F[this.f + 32] = v; }
  get lstarHi(): number { return this.F[this.f + 33]!; }
  set lstarHi(v: number) { this.F[this.f + 33] = v; }
  get fmask(): number { return this.F[this.f + 34]!; }
  set fmask(v: number) { this.F[this.f + 34] = v; }
  get efer(): number { return this.F[this.f + 35]!; }
  set efer(v: number) { this.F[this.f + 35] = v; }
  /** TR: the TSS's linear address, used when the TSS lives in simulated memory (else tssLo/tssHi). */
  get trLo(): number { return this.F[this.f + 36]!; }
  set trLo(v: number) { this.F[this.f + 36] = v; }
  get trHi(): number { return this.F[this.f + 37]!; }
  set trHi(v: number) { this.F[this.f + 37] = v; }
  /** IDTR: linear base and limit of the IDT this CPU delivers through. */
  get idtLo(): number { return this.F[this.f + 38]!; }
  set idtLo(v: number) { this.F[this.f + 38] = v; }
  get idtHi(): number { return this.F[this.f + 39]!; }
  set idtHi(v: number) { this.F[this.f + 39] = v; }
  /** Return address of the software interrupt (int n / int3) being delivered. */
  get swLo(): number { return this.F[this.f + 40]!; }
  set swLo(v: number) { this.F[this.f + 40] = v; }
  get swHi(): number { return this.F[this.f + 41]!; }
  set swHi(v: number) { this.F[this.f + 41] = v; }
  get icrDest(): number { return this.F[this.f + 42]!; }
  set icrDest(v: number) { this.F[this.f + 42] = v; }
  get ipisSent(): number { return this.F[this.f + 43]!; }
  set ipisSent(v: number) { this.F[this.f + 43] = v; }
  get ipisReceived(): number { return this.F[this.f + 44]!; }
  set ipisReceived(v: number) { this.F[this.f + 44] = v; }
  /** IPIs that reached this CPU while it was online (after their latency under modelled timing). */
  get ipisDelivered(): number { return this.F[this.f + 45]!; }
  set ipisDelivered(v: number) { this.F[this.f + 45] = v; }
  /** Cache-line transfers this CPU's stores waited for, and the cycles they cost. */
  get lineTransfers(): number { return this.F[this.f + 46]!; }
  set lineTransfers(v: number) { this.F[this.f + 46] = v; }
  get lineStall(): number { return this.F[this.f + 47]!; }
  set lineStall(v: number) { this.F[this.f + 47] = v; }
  /** Instructions executed although another CPU had changed their bytes (the torn-code option). */
  get xmcTorn(): number { return this.F[this.f + 48]!; }
  set xmcTorn(v: number) { this.F[this.f + 48] = v; }
  /** #GPs raised by the cross-modifying-code rule. */
  get xmcFaults(): number { return this.F[this.f + 49]!; }
  set xmcFaults(v: number) { this.F[this.f + 49] = v; }
  get nmiPeriod(): number { return this.F[this.f + 50]!; }
  set nmiPeriod(v: number) { this.F[this.f + 50] = v; }
  get nextNmi(): number { return this.F[this.f + 51]!; }
  set nextNmi(v: number) { this.F[this.f + 51] = v; }
  get timerPeriod(): number { return this.F[this.f + 52]!; }
  set timerPeriod(v: number) { this.F[this.f + 52] = v; }
  get nextTimer(): number { return this.F[this.f + 53]!; }
  set nextTimer(v: number) { this.F[this.f + 53] = v; }
  /** 0 normal, 1 delivering an exception, 2 delivering #DF. */
  get delivering(): number { return this.I[this.i + 116]!; }
  set delivering(v: number) { this.I[this.i + 116] = v; }
  get cs(): number { return this.I[this.i + 117]!; }
  set cs(v: number) { this.I[this.i + 117] = v; }
  get ss(): number { return this.I[this.i + 118]!; }
  set ss(v: number) { this.I[this.i + 118] = v; }
  get ds(): number { return this.I[this.i + 119]!; }
  set ds(v: number) { this.I[this.i + 119] = v; }
  get es(): number { return this.I[this.i + 120]!; }
  set es(v: number) { this.I[this.i + 120] = v; }
  get fsSel(): number { return this.I[this.i + 121]!; }
  set fsSel(v: number) { this.I[this.i + 121] = v; }
  get gsSel(): number { return this.I[this.i + 122]!; }
  set gsSel(v: number) { this.I[this.i + 122] = v; }
  get ss0(): number { return this.I[this.i + 123]!; }
  set ss0(v: number) { this.I[this.i + 123] = v; }
  get idtLimit(): number { return this.I[this.i + 124]!; }
  set idtLimit(v: number) { this.I[this.i + 124] = v; }
  /** The TSS lives in simulated memory at TR (else in tssLo/tssHi). */
  get tssInMemory(): boolean { return this.I[this.i + 125] !== 0; }
  set tssInMemory(v: boolean) { this.I[this.i + 125] = v ? 1 : 0; }
  get timerVector(): number { return this.I[this.i + 126]!; }
  set timerVector(v: number) { this.I[this.i + 126] = v; }
  /** Fault being raised: vector, error code (-1: none). */
  get fVector(): number { return this.I[this.i + 127]!; }
  set fVector(v: number) { this.I[this.i + 127] = v; }
  get fCode(): number { return this.I[this.i + 128]!; }
  set fCode(v: number) { this.I[this.i + 128] = v; }
}
