import { CpuError } from '../errors.js';
import { fromLoHi, toLoHi } from './arch.js';
import type { CpuState, CpuStatus, FaultRecord, NmiCounters } from './cpu.js';
import { tssOffset } from './idt.js';
import { fitting, intIn } from './validate.js';

/** An IDTR value: the table's linear base address and its limit (size in bytes minus one). */
export interface IdtRegister {
  readonly base: bigint;
  readonly limit: number;
}

const NAMES64 = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'] as const;
const NAMES32 = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'] as const;

/** A general register name: the 64-bit names, or on either machine the 32-bit ones (which read/write the low half). */
export type RegName = (typeof NAMES64)[number] | (typeof NAMES32)[number];

/**
 * TSS fields the hardware reads on entry: sp0 (RSP0 / esp0) and, on x86_64, IST stacks 1..7.
 * With `base` the CPU's TSS moves into simulated memory at that linear address (as `ltr` would
 * make it): deliveries then read RSP0 at base+4 and IST n at base+0x24+8*(n-1) (i386: esp0 at
 * base+4), so machine code can change them; `sp0`/`ist` given alongside are written there.
 */
export interface TssSetup {
  readonly base?: bigint;
  readonly sp0?: bigint;
  readonly ist?: Readonly<Record<number, bigint>>;
}

/** A CPU's TSS as the hardware would read it now. */
export interface TssState {
  /** Linear address of the TSS in simulated memory, or undefined while it lives in the CPU model. */
  readonly base: bigint | undefined;
  readonly sp0: bigint;
  /** IST stacks 1..7 (index 0 unused; all zero on i386). */
  readonly ist: readonly bigint[];
}

/** Per-CPU event counters (not part of the architectural state: `hash()` ignores them, snapshots keep them). */
export interface CpuCounters {
  /** IPI send commands this CPU issued (one per ICR write, whatever the shorthand). */
  readonly ipisSent: number;
  /** IPIs (fixed or NMI) addressed to this CPU, counted when sent (online or not, arrived or still in flight). */
  readonly ipisReceived: number;
  /** IPIs that actually arrived at this CPU while it was online (after the modelled latency). */
  readonly ipisDelivered: number;
  /** Cache-line transfers this CPU's stores waited for (modelled timing), and the cycles they cost it. */
  readonly lineTransfers: number;
  readonly lineStallCycles: number;
  /** Exceptions raised, by vector (`raised[13]`: #GPs), including software interrupts and faults during delivery. */
  readonly raised: readonly number[];
  /** Events delivered through the IDT, by vector (exceptions, NMIs, interrupts). */
  readonly delivered: readonly number[];
  /** #GPs raised by the cross-modifying-code rule (also in `raised[13]`). */
  readonly xmcFaults: number;
  /** Instructions executed with bytes another CPU changed since this CPU serialised (`crossModifyingCode: 'execute'`). */
  readonly xmcTorn: number;
}

/** Outside access to memory through the reference kernel table (supplied by the machine). */
export interface MemoryAccess {
  read(virt: bigint, size: 1 | 2 | 4 | 8): bigint;
  write(virt: bigint, size: 1 | 2 | 4 | 8, value: bigint): void;
}

/**
 * The bigint a getter last built from two 32-bit halves, kept while the halves stay the same:
 * the explorer's checks read RIP and RSP several times at each state, and building a 64-bit
 * bigint costs more than the instruction they follow.
 */
class BigMemo {
  #lo = NaN;
  #hi = NaN;
  #v = 0n;

  of(lo: number, hi: number): bigint {
    if (lo !== this.#lo || hi !== this.#hi) {
      this.#v = fromLoHi(lo, hi);
      this.#lo = lo;
      this.#hi = hi;
    }
    return this.#v;
  }
}

const RSP = 4;

/** The public face of one simulated CPU: read and set its state with bigints. */
export class Cpu {
  readonly #c: CpuState;
  readonly #mem: MemoryAccess;
  readonly #rip = new BigMemo();
  readonly #rsp = new BigMemo();

  constructor(c: CpuState, memory: MemoryAccess) {
    this.#c = c;
    this.#mem = memory;
  }

  get id(): number {
    return this.#c.id;
  }

  get status(): CpuStatus {
    return this.#c.status;
  }

  /** Why the CPU died (triple fault), or '' while alive. */
  get deathReason(): string {
    return this.#c.deathReason;
  }

  reg(name: RegName): bigint {
    const i = regIndex(name);
    const v = fromLoHi(this.#c.lo[i]!, this.#c.hi[i]!);
    return name.startsWith('e') ? v & 0xffffffffn : v;
  }

  /** Sets a register; the value must fit it (unsigned, or negative in two's complement). */
  setReg(name: RegName, value: bigint): void {
    const i = regIndex(name);
    fitting(value, name.startsWith('e') ? 32 : 64, `setReg ${name}`);
    const [lo, hi] = toLoHi(BigInt.asUintN(64, value));
    this.#c.lo[i] = lo;
    this.#c.hi[i] = name.startsWith('e') || !this.#c.m.is64 ? 0 : hi;
  }

  get rip(): bigint {
    return this.#rip.of(this.#c.ipLo, this.#c.ipHi);
  }

  set rip(v: bigint) {
    [this.#c.ipLo, this.#c.ipHi] = toLoHi(BigInt.asUintN(64, fitting(v, this.#c.m.is64 ? 64 : 32, 'rip')));
  }

  get rsp(): bigint {
    return this.#rsp.of(this.#c.lo[RSP]!, this.#c.hi[RSP]!);
  }

  set rsp(v: bigint) {
    this.setReg('rsp', v);
  }

  get rflags(): bigint {
    return BigInt(this.#c.rflags() >>> 0);
  }

  set rflags(v: bigint) {
    this.#c.setRflags(Number(v & 0xffffffffn));
  }

  get cpl(): number {
    return this.#c.cpl;
  }

  get cs(): number {
    return this.#c.cs;
  }

  get ss(): number {
    return this.#c.ss;
  }

  get cr2(): bigint {
    return fromLoHi(this.#c.cr2Lo, this.#c.cr2Hi);
  }

  get cr3(): bigint {
    return BigInt(this.#c.cr3 >>> 0);
  }

  get gsBase(): bigint {
    return fromLoHi(this.#c.gsLo, this.#c.gsHi);
  }

  set gsBase(v: bigint) {
    [this.#c.gsLo, this.#c.gsHi] = toLoHi(v);
  }

  get kernelGsBase(): bigint {
    return fromLoHi(this.#c.kgsLo, this.#c.kgsHi);
  }

  set kernelGsBase(v: bigint) {
    [this.#c.kgsLo, this.#c.kgsHi] = toLoHi(v);
  }

  get fsBase(): bigint {
    return fromLoHi(this.#c.fsLo, this.#c.fsHi);
  }

  set fsBase(v: bigint) {
    [this.#c.fsLo, this.#c.fsHi] = toLoHi(v);
  }

  get nmiBlocked(): boolean {
    return this.#c.nmiBlocked;
  }

  /** An NMI is pending: waiting for the next boundary, or latched while NMIs are blocked. */
  get nmiPending(): boolean {
    return this.#c.nmiPending;
  }

  get nmiCounters(): NmiCounters {
    return this.#c.nmiCounters();
  }

  get interruptsEnabled(): boolean {
    return (this.#c.fl & (1 << 9)) !== 0;
  }

  /** A maskable interrupt is pending (taken at the next boundary with IF set). */
  get irqPending(): boolean {
    return this.#c.irqCount > 0;
  }

  get cycles(): number {
    return this.#c.cycles;
  }

  get instructions(): number {
    return this.#c.instructions;
  }

  /** `counters.ipisSent` without building the counters (the explorer reads it around every reduced step). */
  get ipisSent(): number {
    return this.#c.ipisSent;
  }

  /** Event counters: IPIs, exceptions raised and events delivered per vector, cross-modifying-code #GPs. */
  get counters(): CpuCounters {
    const c = this.#c;
    return {
      ipisSent: c.ipisSent,
      ipisReceived: c.ipisReceived,
      ipisDelivered: c.ipisDelivered,
      lineTransfers: c.lineTransfers,
      lineStallCycles: c.lineStall,
      raised: Array.from(c.counts.subarray(0, 256)),
      delivered: Array.from(c.counts.subarray(256, 512)),
      xmcFaults: c.xmcFaults,
      xmcTorn: c.xmcTorn,
    };
  }

  /** The most recent exception raised on this CPU (vector, error code or -1, RIP, reason), if any. */
  get lastFault(): FaultRecord | undefined {
    return this.#c.lastFault ?? undefined;
  }

  setTss(tss: TssSetup): void {
    const c = this.#c;
    const ist = Object.entries(tss.ist ?? {}).map(([k, v]) => {
      const n = Number(k);
      if (!Number.isInteger(n) || n < 1 || n > 7 || !c.m.is64) throw new CpuError('KERNSIM_CPU_BAD_ARGUMENT', `IST index must be 1..7 on x86_64, got ${k}`);
      return [n, v] as const;
    });
    if (tss.base !== undefined) {
      const w = c.m.is64 ? 8 : 4;
      // Probe the whole TSS (up to the last IST slot) so a bad base fails here, not at the next delivery.
      this.#mem.read(tss.base + BigInt(tssOffset(c.m.is64 ? 7 : 0)), w);
      [c.trLo, c.trHi] = toLoHi(tss.base);
      c.tssInMemory = true;
    }
    const put = (slot: number, v: bigint): void => {
      if (c.tssInMemory) this.#mem.write(fromLoHi(c.trLo, c.trHi) + BigInt(tssOffset(slot)), c.m.is64 ? 8 : 4, v);
      else [c.tssLo[slot], c.tssHi[slot]] = toLoHi(v);
    };
    if (tss.sp0 !== undefined) put(0, tss.sp0);
    for (const [n, v] of ist) put(n, v);
  }

  /** The TSS the CPU reads on entry (from memory when it lives there). */
  get tss(): TssState {
    const c = this.#c;
    const slot = (n: number): bigint => {
      if (n > 0 && !c.m.is64) return 0n;
      return c.tssInMemory ? this.#mem.read(fromLoHi(c.trLo, c.trHi) + BigInt(tssOffset(n)), c.m.is64 ? 8 : 4) : fromLoHi(c.tssLo[n]!, c.tssHi[n]!);
    };
    return { base: c.tssInMemory ? fromLoHi(c.trLo, c.trHi) : undefined, sp0: slot(0), ist: Array.from({ length: 8 }, (_, i) => (i === 0 ? 0n : slot(i))) };
  }

  /** This CPU's IDTR (set by `lidt`; after reset it names the machine's default IDT). */
  get idtr(): IdtRegister {
    return { base: fromLoHi(this.#c.idtLo, this.#c.idtHi), limit: this.#c.idtLimit };
  }

  /** Loads the IDTR from outside (what `lidt` does from machine code). */
  setIdtr(idtr: IdtRegister): void {
    if (!Number.isInteger(idtr.limit) || idtr.limit < 0 || idtr.limit > 0xffff) throw new CpuError('KERNSIM_CPU_BAD_ARGUMENT', `IDT limit must be 0..0xffff, got ${idtr.limit}`);
    [this.#c.idtLo, this.#c.idtHi] = toLoHi(BigInt.asUintN(this.#c.m.is64 ? 64 : 32, idtr.base));
    this.#c.idtLimit = idtr.limit;
  }

  /** A perf-counter / watchdog NMI source firing every `period` cycles (null switches it off). */
  setNmiSource(period: number | null): void {
    const c = this.#c;
    if (period !== null && (!Number.isInteger(period) || period <= 0)) throw new CpuError('KERNSIM_CPU_BAD_ARGUMENT', `NMI source period must be a positive integer of cycles, got ${period}`);
    c.nmiPeriod = period ?? 0;
    c.nextNmi = period === null ? Infinity : c.cycles + period;
    c.refreshNextEvent();
  }

  /** The local APIC timer: raises `vector` every `period` cycles (null switches it off). */
  setTimer(period: number | null, vector = 0xef): void {
    const c = this.#c;
    if (period !== null && (!Number.isInteger(period) || period <= 0)) throw new CpuError('KERNSIM_CPU_BAD_ARGUMENT', `timer period must be a positive integer of cycles, got ${period}`);
    intIn(vector, 0, 255, 'timer vector');
    c.timerPeriod = period ?? 0;
    c.timerVector = vector;
    c.nextTimer = period === null ? Infinity : c.cycles + period;
    c.refreshNextEvent();
  }
}

/** Register names to their slot (a 32-bit name shares its 64-bit register's). */
const REG_INDEX: ReadonlyMap<string, number> = new Map([...NAMES64.map((n, i) => [n, i] as const), ...NAMES32.map((n, i) => [n, i] as const)]);

function regIndex(name: RegName): number {
  const i = REG_INDEX.get(name);
  if (i === undefined) throw new CpuError('KERNSIM_CPU_BAD_ARGUMENT', `unknown register ${name as string}`);
  return i;
}
