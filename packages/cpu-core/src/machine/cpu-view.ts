import { CpuError } from '../errors.js';
import { fromLoHi, toLoHi } from './arch.js';
import type { CpuState, CpuStatus, NmiCounters } from './cpu.js';

const NAMES64 = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'] as const;
const NAMES32 = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'] as const;

/** A general register name: the 64-bit names, or on either machine the 32-bit ones (which read/write the low half). */
export type RegName = (typeof NAMES64)[number] | (typeof NAMES32)[number];

/** TSS fields the hardware reads on entry: sp0 (RSP0 / esp0) and, on x86_64, IST stacks 1..7. */
export interface TssSetup {
  readonly sp0?: bigint;
  readonly ist?: Readonly<Record<number, bigint>>;
}

/** The public face of one simulated CPU: read and set its state with bigints. */
export class Cpu {
  readonly #c: CpuState;

  constructor(c: CpuState) {
    this.#c = c;
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

  setReg(name: RegName, value: bigint): void {
    const i = regIndex(name);
    const [lo, hi] = toLoHi(BigInt.asUintN(64, value));
    this.#c.lo[i] = lo;
    this.#c.hi[i] = name.startsWith('e') || !this.#c.m.is64 ? 0 : hi;
  }

  get rip(): bigint {
    return fromLoHi(this.#c.ipLo, this.#c.ipHi);
  }

  set rip(v: bigint) {
    [this.#c.ipLo, this.#c.ipHi] = toLoHi(v);
  }

  get rsp(): bigint {
    return this.reg('rsp');
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

  get cycles(): number {
    return this.#c.cycles;
  }

  get instructions(): number {
    return this.#c.instructions;
  }

  setTss(tss: TssSetup): void {
    if (tss.sp0 !== undefined) [this.#c.tssLo[0], this.#c.tssHi[0]] = toLoHi(tss.sp0);
    for (const [k, v] of Object.entries(tss.ist ?? {})) {
      const n = Number(k);
      if (!Number.isInteger(n) || n < 1 || n > 7 || !this.#c.m.is64) throw new CpuError('KERNSIM_CPU_BAD_ARGUMENT', `IST index must be 1..7 on x86_64, got ${k}`);
      [this.#c.tssLo[n], this.#c.tssHi[n]] = toLoHi(v);
    }
  }

  /** A perf-counter / watchdog NMI source firing every `period` cycles (null switches it off). */
  setNmiSource(period: number | null): void {
    const c = this.#c;
    if (period !== null && (!Number.isInteger(period) || period <= 0)) throw new CpuError('KERNSIM_CPU_BAD_ARGUMENT', `NMI source period must be a positive integer of cycles, got ${period}`);
    c.nmiPeriod = period ?? 0;
    c.nextNmi = period === null ? Infinity : c.cycles + period;
    c.nextEvent = Math.min(c.nextNmi, c.nextTimer);
  }

  /** The local APIC timer: raises `vector` every `period` cycles (null switches it off). */
  setTimer(period: number | null, vector = 0xef): void {
    const c = this.#c;
    if (period !== null && (!Number.isInteger(period) || period <= 0)) throw new CpuError('KERNSIM_CPU_BAD_ARGUMENT', `timer period must be a positive integer of cycles, got ${period}`);
    c.timerPeriod = period ?? 0;
    c.timerVector = vector & 0xff;
    c.nextTimer = period === null ? Infinity : c.cycles + period;
    c.nextEvent = Math.min(c.nextNmi, c.nextTimer);
  }
}

function regIndex(name: RegName): number {
  let i = (NAMES64 as readonly string[]).indexOf(name);
  if (i < 0) i = (NAMES32 as readonly string[]).indexOf(name);
  if (i < 0) throw new CpuError('KERNSIM_CPU_BAD_ARGUMENT', `unknown register ${name as string}`);
  return i;
}
