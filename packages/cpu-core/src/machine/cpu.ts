import type { Frame } from './frame.js';
import type { MachineCore } from './core.js';

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

export const TLB_SIZE = 64;

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
 * (`lo`/`hi`) so the hot path never touches BigInt.
 */
export class CpuState {
  // Fields the step loop touches come first, so they share a few cache lines (4096 CPUs do not fit in cache).
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
  /** Cached translation of the current code page. */
  codeVpn = -1;
  codeFrame: Frame | null = null;
  readonly lo = new Uint32Array(16);
  readonly hi = new Uint32Array(16);
  readonly tlbR = new Float64Array(TLB_SIZE).fill(-1);
  readonly tlbW = new Float64Array(TLB_SIZE).fill(-1);
  readonly tlbF: (Frame | null)[] = new Array<Frame | null>(TLB_SIZE).fill(null);
  gsLo = 0;
  gsHi = 0;
  fsLo = 0;
  fsHi = 0;
  cs = 0;
  ss = 0;
  ds = 0;
  es = 0;
  fsSel = 0;
  gsSel = 0;
  kgsLo = 0;
  kgsHi = 0;
  cr0 = 0x80000011;
  cr2Lo = 0;
  cr2Hi = 0;
  cr3 = 0;
  cr4 = 0;
  starLo = 0;
  starHi = 0;
  lstarLo = 0;
  lstarHi = 0;
  fmask = 0;
  efer = 0;
  /** TSS: index 0 is sp0 (RSP0/esp0), 1..7 the IST stacks; lo/hi halves. */
  readonly tssLo = new Uint32Array(8);
  readonly tssHi = new Uint32Array(8);
  ss0 = 0;
  /** TR: the TSS's linear address, used when the TSS lives in simulated memory (else tssLo/tssHi). */
  tssInMemory = false;
  trLo = 0;
  trHi = 0;
  /** IDTR: linear base and limit of the IDT this CPU delivers through. */
  idtLo = 0;
  idtHi = 0;
  idtLimit = 0;
  /** Return address of the software interrupt (int n / int3) being delivered. */
  swLo = 0;
  swHi = 0;
  icrDest = 0;
  readonly nmi = new Float64Array(4);
  /** Pending maskable vectors (count per vector, 0/1) and how many are set. */
  readonly irq = new Uint8Array(256);
  /** Exceptions raised per vector (0..255) and events delivered per vector (256..511). */
  readonly counts = new Uint32Array(512);
  ipisSent = 0;
  ipisReceived = 0;
  /** IPIs that reached this CPU while it was online (after their latency under modelled timing). */
  ipisDelivered = 0;
  /** IPIs in flight to this CPU: arrival cycle (ascending) and what (sender * 512 + vector, or + 256 for an NMI). */
  ipiAt: number[] = [];
  ipiWhat: number[] = [];
  /** Cache-line transfers this CPU's stores waited for, and the cycles they cost. */
  lineTransfers = 0;
  lineStall = 0;
  /** Instructions executed although another CPU had changed their bytes (the torn-code option). */
  xmcTorn = 0;
  /** #GPs raised by the cross-modifying-code rule. */
  xmcFaults = 0;
  /** The most recent exception raised on this CPU. */
  lastFault: FaultRecord | null = null;
  deathReason = '';
  /** 0 normal, 1 delivering an exception, 2 delivering #DF. */
  delivering = 0;
  nmiPeriod = 0;
  nextNmi = Infinity;
  timerPeriod = 0;
  timerVector = 0;
  nextTimer = Infinity;
  // Fault being raised.
  fVector = 0;
  fCode = -1;
  fReason = '';

  constructor(
    readonly id: number,
    readonly m: MachineCore,
  ) {}

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

  nmiCounters(): NmiCounters {
    return { raised: this.nmi[0]!, delivered: this.nmi[1]!, latched: this.nmi[2]!, dropped: this.nmi[3]! };
  }
}
