/*
 * Flat per-CPU state. Every CPU's numeric state lives in one machine-wide buffer, a fixed
 * stride per CPU with the part the step loop touches first (RIP, clock, scratch, flags,
 * registers: the first five cache lines), so round-robin over thousands of CPUs walks a few
 * contiguous lines per CPU instead of an object, its boxed doubles and ten typed arrays
 * each with its own backing store. `CpuSlots` keeps the field names the interpreter, the
 * block templates and the views use: each is an accessor onto the CPU's slot (V8 inlines
 * them), 64-bit-safe numbers as float64 slots, small integers and booleans as int32 slots.
 * A snapshot of all CPUs is then a copy of the buffer (`CpuFile`).
 */

/** Byte offsets in a CPU's stride (the accessors below hold the scalars' offsets as literals). */
export const SLOT = { LO: 184, HI: 248, NMI: 552, TSS_LO: 632, TSS_HI: 664 } as const;
/** Bytes per CPU in the state buffer: a multiple of 64, so every CPU starts on a cache line. */
export const STRIDE = 704;
export const TLB_SIZE = 64;
/** Per CPU in the events buffer: exceptions raised and events delivered per vector (512 × u32), then the pending-vector bytes (256). */
const COUNTS_BYTES = 2048;
const EVENTS_STRIDE = COUNTS_BYTES + 256;

/** The machine-wide buffers: architectural state, events (counts, pending IRQs), and the TLB tags (a cache, not state). */
export class CpuFile {
  readonly state: Uint8Array;
  readonly F: Float64Array;
  readonly I: Int32Array;
  readonly events: Uint8Array;
  readonly tlb: Float64Array;

  constructor(readonly cpus: number) {
    const buf = new ArrayBuffer(cpus * STRIDE);
    this.state = new Uint8Array(buf);
    this.F = new Float64Array(buf);
    this.I = new Int32Array(buf);
    this.events = new Uint8Array(cpus * EVENTS_STRIDE);
    this.tlb = new Float64Array(cpus * 2 * TLB_SIZE).fill(-1);
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

  get ipLo(): number { return this.F[this.f + 0]!; }
  set ipLo(v: number) { this.F[this.f + 0] = v; }
  get ipHi(): number { return this.F[this.f + 1]!; }
  set ipHi(v: number) { this.F[this.f + 1] = v; }
  get cycles(): number { return this.F[this.f + 2]!; }
  set cycles(v: number) { this.F[this.f + 2] = v; }
  get instructions(): number { return this.F[this.f + 3]!; }
  set instructions(v: number) { this.F[this.f + 3] = v; }
  get nextEvent(): number { return this.F[this.f + 4]!; }
  set nextEvent(v: number) { this.F[this.f + 4] = v; }
  /** Machine write sequence number at this CPU's last serializing event. */
  get serialSeq(): number { return this.F[this.f + 5]!; }
  set serialSeq(v: number) { this.F[this.f + 5] = v; }
  /** Cached translation of the current code page (its virtual page number; -1: none). */
  get codeVpn(): number { return this.F[this.f + 6]!; }
  set codeVpn(v: number) { this.F[this.f + 6] = v; }
  /** Scratch: effective address, high half of the last 64-bit value read, result high half. */
  get eaLo(): number { return this.F[this.f + 7]!; }
  set eaLo(v: number) { this.F[this.f + 7] = v; }
  get eaHi(): number { return this.F[this.f + 8]!; }
  set eaHi(v: number) { this.F[this.f + 8] = v; }
  get vh(): number { return this.F[this.f + 9]!; }
  set vh(v: number) { this.F[this.f + 9] = v; }
  get rh(): number { return this.F[this.f + 10]!; }
  set rh(v: number) { this.F[this.f + 10] = v; }
  get gsLo(): number { return this.F[this.f + 11]!; }
  set gsLo(v: number) { this.F[this.f + 11] = v; }
  get gsHi(): number { return this.F[this.f + 12]!; }
  set gsHi(v: number) { this.F[this.f + 12] = v; }
  get fsLo(): number { return this.F[this.f + 13]!; }
  set fsLo(v: number) { this.F[this.f + 13] = v; }
  get fsHi(): number { return this.F[this.f + 14]!; }
  set fsHi(v: number) { this.F[this.f + 14] = v; }
  get cr3(): number { return this.F[this.f + 15]!; }
  set cr3(v: number) { this.F[this.f + 15] = v; }
  get state(): number { return this.I[this.i + 32]!; }
  set state(v: number) { this.I[this.i + 32] = v; }
  get nmiPending(): boolean { return this.I[this.i + 33] !== 0; }
  set nmiPending(v: boolean) { this.I[this.i + 33] = v ? 1 : 0; }
  get nmiBlocked(): boolean { return this.I[this.i + 34] !== 0; }
  set nmiBlocked(v: boolean) { this.I[this.i + 34] = v ? 1 : 0; }
  get irqCount(): number { return this.I[this.i + 35]!; }
  set irqCount(v: number) { this.I[this.i + 35] = v; }
  /** RFLAGS without the six arithmetic flags; bit 1 always set. */
  get fl(): number { return this.I[this.i + 36]!; }
  set fl(v: number) { this.I[this.i + 36] = v; }
  get cpl(): number { return this.I[this.i + 37]!; }
  set cpl(v: number) { this.I[this.i + 37] = v; }
  get cf(): number { return this.I[this.i + 38]!; }
  set cf(v: number) { this.I[this.i + 38] = v; }
  get pf(): number { return this.I[this.i + 39]!; }
  set pf(v: number) { this.I[this.i + 39] = v; }
  get af(): number { return this.I[this.i + 40]!; }
  set af(v: number) { this.I[this.i + 40] = v; }
  get zf(): number { return this.I[this.i + 41]!; }
  set zf(v: number) { this.I[this.i + 41] = v; }
  get sf(): number { return this.I[this.i + 42]!; }
  set sf(v: number) { this.I[this.i + 42] = v; }
  get of(): number { return this.I[this.i + 43]!; }
  set of(v: number) { this.I[this.i + 43] = v; }
  /** 0 normal, 1 delivering an exception, 2 delivering #DF. */
  get delivering(): number { return this.I[this.i + 44]!; }
  set delivering(v: number) { this.I[this.i + 44] = v; }
  get kgsLo(): number { return this.F[this.f + 39]!; }
  set kgsLo(v: number) { this.F[this.f + 39] = v; }
  get kgsHi(): number { return this.F[this.f + 40]!; }
  set kgsHi(v: number) { this.F[this.f + 40] = v; }
  get cr0(): number { return this.F[this.f + 41]!; }
  set cr0(v: number) { this.F[this.f + 41] = v; }
  get cr2Lo(): number { return this.F[this.f + 42]!; }
  set cr2Lo(v: number) { this.F[this.f + 42] = v; }
  get cr2Hi(): number { return this.F[this.f + 43]!; }
  set cr2Hi(v: number) { this.F[this.f + 43] = v; }
  get cr4(): number { return this.F[this.f + 44]!; }
  set cr4(v: number) { this.F[this.f + 44] = v; }
  get starLo(): number { return this.F[this.f + 45]!; }
  set starLo(v: number) { this.F[this.f + 45] = v; }
  get starHi(): number { return this.F[this.f + 46]!; }
  set starHi(v: number) { this.F[this.f + 46] = v; }
  get lstarLo(): number { return this.F[this.f + 47]!; }
  set lstarLo(v: number) { this.F[this.f + 47] = v; }
  get lstarHi(): number { return this.F[this.f + 48]!; }
  set lstarHi(v: number) { this.F[this.f + 48] = v; }
  get fmask(): number { return this.F[this.f + 49]!; }
  set fmask(v: number) { this.F[this.f + 49] = v; }
  get efer(): number { return this.F[this.f + 50]!; }
  set efer(v: number) { this.F[this.f + 50] = v; }
  /** TR: the TSS's linear address, used when the TSS lives in simulated memory (else tssLo/tssHi). */
  get trLo(): number { return this.F[this.f + 51]!; }
  set trLo(v: number) { this.F[this.f + 51] = v; }
  get trHi(): number { return this.F[this.f + 52]!; }
  set trHi(v: number) { this.F[this.f + 52] = v; }
  /** IDTR: linear base and limit of the IDT this CPU delivers through. */
  get idtLo(): number { return this.F[this.f + 53]!; }
  set idtLo(v: number) { this.F[this.f + 53] = v; }
  get idtHi(): number { return this.F[this.f + 54]!; }
  set idtHi(v: number) { this.F[this.f + 54] = v; }
  /** Return address of the software interrupt (int n / int3) being delivered. */
  get swLo(): number { return this.F[this.f + 55]!; }
  set swLo(v: number) { this.F[this.f + 55] = v; }
  get swHi(): number { return this.F[this.f + 56]!; }
  set swHi(v: number) { this.F[this.f + 56] = v; }
  get icrDest(): number { return this.F[this.f + 57]!; }
  set icrDest(v: number) { this.F[this.f + 57] = v; }
  get ipisSent(): number { return this.F[this.f + 58]!; }
  set ipisSent(v: number) { this.F[this.f + 58] = v; }
  get ipisReceived(): number { return this.F[this.f + 59]!; }
  set ipisReceived(v: number) { this.F[this.f + 59] = v; }
  /** IPIs that reached this CPU while it was online (after their latency under modelled timing). */
  get ipisDelivered(): number { return this.F[this.f + 60]!; }
  set ipisDelivered(v: number) { this.F[this.f + 60] = v; }
  /** Cache-line transfers this CPU's stores waited for, and the cycles they cost. */
  get lineTransfers(): number { return this.F[this.f + 61]!; }
  set lineTransfers(v: number) { this.F[this.f + 61] = v; }
  get lineStall(): number { return this.F[this.f + 62]!; }
  set lineStall(v: number) { this.F[this.f + 62] = v; }
  /** Instructions executed although another CPU had changed their bytes (the torn-code option). */
  get xmcTorn(): number { return this.F[this.f + 63]!; }
  set xmcTorn(v: number) { this.F[this.f + 63] = v; }
  /** #GPs raised by the cross-modifying-code rule. */
  get xmcFaults(): number { return this.F[this.f + 64]!; }
  set xmcFaults(v: number) { this.F[this.f + 64] = v; }
  get nmiPeriod(): number { return this.F[this.f + 65]!; }
  set nmiPeriod(v: number) { this.F[this.f + 65] = v; }
  get nextNmi(): number { return this.F[this.f + 66]!; }
  set nextNmi(v: number) { this.F[this.f + 66] = v; }
  get timerPeriod(): number { return this.F[this.f + 67]!; }
  set timerPeriod(v: number) { this.F[this.f + 67] = v; }
  get nextTimer(): number { return this.F[this.f + 68]!; }
  set nextTimer(v: number) { this.F[this.f + 68] = v; }
  get cs(): number { return this.I[this.i + 146]!; }
  set cs(v: number) { this.I[this.i + 146] = v; }
  get ss(): number { return this.I[this.i + 147]!; }
  set ss(v: number) { this.I[this.i + 147] = v; }
  get ds(): number { return this.I[this.i + 148]!; }
  set ds(v: number) { this.I[this.i + 148] = v; }
  get es(): number { return this.I[this.i + 149]!; }
  set es(v: number) { this.I[this.i + 149] = v; }
  get fsSel(): number { return this.I[this.i + 150]!; }
  set fsSel(v: number) { this.I[this.i + 150] = v; }
  get gsSel(): number { return this.I[this.i + 151]!; }
  set gsSel(v: number) { this.I[this.i + 151] = v; }
  get ss0(): number { return this.I[this.i + 152]!; }
  set ss0(v: number) { this.I[this.i + 152] = v; }
  get idtLimit(): number { return this.I[this.i + 153]!; }
  set idtLimit(v: number) { this.I[this.i + 153] = v; }
  /** The TSS lives in simulated memory at TR (else in tssLo/tssHi). */
  get tssInMemory(): boolean { return this.I[this.i + 154] !== 0; }
  set tssInMemory(v: boolean) { this.I[this.i + 154] = v ? 1 : 0; }
  get timerVector(): number { return this.I[this.i + 155]!; }
  set timerVector(v: number) { this.I[this.i + 155] = v; }
  /** Fault being raised: vector, error code (-1: none). */
  get fVector(): number { return this.I[this.i + 156]!; }
  set fVector(v: number) { this.I[this.i + 156] = v; }
  get fCode(): number { return this.I[this.i + 157]!; }
  set fCode(v: number) { this.I[this.i + 157] = v; }
}
