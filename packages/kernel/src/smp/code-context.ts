import { Assembler, MSR } from '@kernsim/cpu-core';
import type { Arch, Mem } from '@kernsim/cpu-core';
import { isaOf } from '../isa.js';
import type { Isa } from '../isa.js';
import { STAT, varAddress } from './layout.js';
import type { SmpLayout, VarName } from './layout.js';

/**
 * Everything a code generator of the lean SMP kernel needs: the assembler, the register
 * names (the kernel's one `Isa`), where the control words and statistics live.
 */
export class SmpCodeContext {
  readonly a: Assembler;
  readonly isa: Isa;
  readonly layout: SmpLayout;
  #local = 0;

  constructor(arch: Arch, layout: SmpLayout) {
    this.isa = isaOf(arch);
    this.layout = layout;
    this.a = new Assembler({ bitness: this.isa.bits, origin: layout.text });
  }

  /** A machine-word variable of the data page. */
  v(name: VarName): Mem {
    return this.isa.word(this.addr(name));
  }

  vd(name: VarName): Mem {
    return this.isa.dword(this.addr(name));
  }

  addr(name: VarName): bigint {
    return varAddress(this.layout, name);
  }

  /** A fresh local label. */
  local(hint: string): string {
    this.#local += 1;
    return `.L${hint}${String(this.#local)}`;
  }

  /** Saves the registers a handler uses; `restore` pops them in reverse. */
  save(): void {
    const { a, isa } = this;
    a.push(isa.ax).push(isa.bx).push(isa.cx).push(isa.dx).push(isa.si).push(isa.di);
  }

  restore(): void {
    const { a, isa } = this;
    a.pop(isa.di).pop(isa.si).pop(isa.dx).pop(isa.cx).pop(isa.bx).pop(isa.ax);
  }

  /** Bytes `save()` pushes: the hardware frame starts this far above the stack pointer. */
  get savedBytes(): number {
    return 6 * this.isa.w;
  }

  /**
   * Starts a stall measurement: pushes the TSC's low half. Clobbers ax and dx.
   */
  stallBegin(): void {
    const { a, isa } = this;
    a.rdtsc();
    a.push(isa.ax);
  }

  /**
   * Ends the measurement `stallBegin` started (its word must be on top of the stack): adds
   * the elapsed cycles to this CPU's stall and bumps the per-CPU counter `count`, if given.
   * Clobbers ax, cx, dx, si.
   */
  stallEnd(count?: 'int3' | 'ipis'): void {
    const { a, isa } = this;
    a.rdtsc();
    a.pop(isa.cx);
    a.sub(isa.eax, isa.ecx);
    a.mov(isa.esi, isa.eax);
    this.cpuStat(isa.ax);
    a.add(isa.word(isa.ax, STAT.stall), isa.si);
    if (count !== undefined) a.inc(isa.word(isa.ax, STAT[count]));
  }

  /** Stores the TSC in the 8-byte control word `name`. Clobbers ax and dx. */
  stamp(name: VarName): void {
    const { a, isa } = this;
    a.rdtsc().mov(this.vd(name), isa.eax);
    a.mov(isa.dword(this.addr(name) + 4n), isa.edx);
  }

  /** `into` = this CPU's statistics block (x2APIC id * STAT.size + base). Clobbers ax, cx, dx. */
  cpuStat(into: typeof this.isa.ax): void {
    const { a, isa } = this;
    a.mov(isa.ecx, MSR.X2APIC_ID).rdmsr();
    a.shl(isa.ax, STAT.shift);
    a.add(isa.ax, this.layout.work);
    if (into !== isa.ax) a.mov(into, isa.ax);
  }

  /** Bumps this CPU's `traced` statistic (a call reached a patching user's code), keeping every register. */
  countTraced(): void {
    this.countStat(STAT.traced);
  }

  /**
   * Bumps one of this CPU's statistics, keeping every register. Counts the workload keeps
   * are per CPU, as 3.3's tracer, netfilter and kprobe counters are: a machine-wide word
   * every CPU increments would cost a serialised line transfer per call.
   */
  countStat(offset: number): void {
    const { a, isa } = this;
    a.push(isa.ax).push(isa.cx).push(isa.dx);
    this.cpuStat(isa.ax);
    a.inc(isa.word(isa.ax, offset));
    a.pop(isa.dx).pop(isa.cx).pop(isa.ax);
  }

  /**
   * cpu_relax() in wait loops. The kernel's is `pause`; here a one-byte nop, because the
   * machine schedules CPUs an instruction at a time and `pause` costs 10 cycles: a spinning
   * CPU's clock would run ten times ahead of the CPUs it waits for, and every wait (patch
   * time, stall) would be measured in inflated cycles.
   */
  relax(): Assembler {
    return this.a.nop();
  }

  /** `while (mem != 0) cpu_relax();` with local labels from the two hints. */
  spinWhileSet(mem: Mem, loopHint: string, doneHint: string): void {
    const { a } = this;
    const loop = this.local(loopHint);
    const done = this.local(doneHint);
    a.label(loop);
    a.cmp(mem, 0).je(done);
    this.relax().jmp(loop);
    a.label(done);
  }

  iret(): void {
    if (this.isa.bits === 64) this.a.iretq();
    else this.a.iret();
  }
}
