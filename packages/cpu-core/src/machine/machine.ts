import type { AssembledCode } from '../asm/assembler.js';
import { SymbolTable } from '../asm/symbols.js';
import { CpuError } from '../errors.js';
import { I386, toLoHi, X86_64 } from './arch.js';
import type { Arch, ArchInfo } from './arch.js';
import { rd } from './bus.js';
import { CpuState, DEAD, FL_IF, HALTED, RUNNING } from './cpu.js';
import { Cpu } from './cpu-view.js';
import type { IdtRegister } from './cpu-view.js';
import { MachineCore, PTE_P, PTE_W } from './core.js';
import type { AddressSpace, ExecCallback } from './core.js';
import { addExecWatch, addWriteWatch, flagExecWatches } from './watches.js';
import { checkVirt, lookupPage, mapPages, readThrough, unmapPages, writeThrough } from './address-space-ops.js';
import { decodeGate, DEFAULT_IDT_PHYS, encodeGate, GATE_INTERRUPT, GATE_TRAP, gateSize } from './idt.js';
import { raiseIrq, raiseNmi } from './events.js';
import { runnable, step } from './exec.js';
import { F_CODE } from './frame.js';
import type { Frame } from './frame.js';
import { FAULT } from './op.js';
import { checkEntry, checkScheduler, encode, nextRandom, ScheduleLog } from './schedule.js';
import type { ScheduleEntry } from './schedule.js';
import { runRoundRobin } from './round-robin.js';
import { resolveTiming } from './timing/model.js';
import type { CostTable } from './timing/costs.js';
import { accessSize, address, fitting, intIn, oneOf } from './validate.js';
import type { RoundRobinState } from './round-robin.js';
import { captureState, machineHash, restoreState } from './machine-state.js';
import { checkSnapshot } from './machine-state.js';
import type { MachineIdentity } from './machine-state.js';
import { formatEvent, hashTrace, TraceRecorder } from './trace.js';
import type { TraceEvent, TraceFilter } from './trace.js';
import { buildStackView } from './stack-view.js';
import type { GateInfo, GateOptions, GateTableOptions, LoadOptions, MachineConfig, MapOptions, RunOptions, RunResult, Snapshot, StartOptions } from './machine-options.js';

export type { GateInfo, GateOptions, GateTableOptions, LoadOptions, MachineConfig, MapOptions, RunOptions, RunResult, Snapshot, StartOptions } from './machine-options.js';
import type { StackWord } from './stack-view.js';

/** The most words one `stackView` call labels (512 KiB of 64-bit stack): wider ranges are paged by the caller. */
const STACK_VIEW_WORDS = 65536;

/** Validates the configuration and builds a machine. */
export function createMachine(config: MachineConfig): Machine {
  return new Machine(config);
}

/** A deterministic multi-CPU x86 machine. */
export class Machine {
  readonly arch: Arch;
  readonly bitness: 32 | 64;
  readonly cpus: readonly Cpu[];
  /** The reference kernel page table (init_mm). */
  readonly kernelSpace: AddressSpace;
  readonly #core: MachineCore;
  readonly #info: ArchInfo;
  readonly #symbols = new Map<string, bigint>();
  #symbolTable: SymbolTable | undefined;
  readonly #code: { start: bigint; end: bigint; space: number }[] = [];
  /** Recorded choices, compressed (see ScheduleLog). */
  readonly #log: ScheduleLog;
  #trace: TraceRecorder | null = null;
  readonly #rng: { rng: number };
  readonly #rr: RoundRobinState = { rr: 0 };
  readonly #stepsOut = { steps: 0 };
  #mapVersion = 0;
  readonly #hashOut = new Int32Array(2);
  /** The default IDT (256 gates in a physical page of its own, reached through the direct map); every CPU's IDTR starts here. */
  readonly idt: IdtRegister;

  constructor(config: MachineConfig) {
    if (!['x86_64', 'i386'].includes(config.arch)) throw new CpuError('KERNSIM_CPU_CONFIG', `arch must be 'x86_64' or 'i386', got ${config.arch as string}`);
    if (!Number.isInteger(config.cpus) || config.cpus < 1 || config.cpus > 4096) throw new CpuError('KERNSIM_CPU_CONFIG', `cpus must be an integer from 1 to 4096, got ${config.cpus}`);
    const cpi = config.cyclesPerInstruction;
    if (cpi !== undefined && (!Number.isInteger(cpi) || cpi < 1)) throw new CpuError('KERNSIM_CPU_CONFIG', `cyclesPerInstruction must be a positive integer, got ${cpi}`);
    const cpb = config.serial?.cyclesPerByte ?? 87_000;
    if (!Number.isInteger(cpb) || cpb < 0) throw new CpuError('KERNSIM_CPU_CONFIG', `serial.cyclesPerByte must be a non-negative integer, got ${cpb}`);
    const mib = config.memoryMiB ?? 256;
    if (!Number.isInteger(mib) || mib < 1 || mib > 4096) throw new CpuError('KERNSIM_CPU_CONFIG', `memoryMiB must be 1..4096, got ${mib}`);
    const seed = config.seed ?? 1;
    if (!Number.isInteger(seed)) throw new CpuError('KERNSIM_CPU_CONFIG', `seed must be an integer, got ${seed}`);
    this.arch = config.arch;
    this.#info = config.arch === 'x86_64' ? X86_64 : I386;
    this.bitness = this.#info.bitness;
    this.#rng = { rng: seed | 0 };
    this.#log = new ScheduleLog(config.cpus);
    this.#log.enabled = config.recordSchedule ?? true;
    const xmc = oneOf(config.crossModifyingCode ?? 'fault', ['fault', 'execute'], 'crossModifyingCode', 'KERNSIM_CPU_CONFIG');
    const timing = resolveTiming(config.timing, cpi, config.costs, config.topology);
    const core = new MachineCore(this.#info, timing, cpb, mib * 256, xmc === 'execute');
    this.#core = core;
    core.blocks = oneOf(config.execution ?? 'blocks', ['blocks', 'interpreter'], 'execution', 'KERNSIM_CPU_CONFIG') === 'blocks';
    // The reference table: its pgd, and the direct map of all physical memory at PAGE_OFFSET.
    const dm = core.allocFrame();
    core.tables.set(dm.pfn, core.directTable);
    const pgd = core.newPgdFrame();
    const slots = this.arch === 'x86_64' ? [272] : Array.from({ length: Math.ceil(mib / 4) + 1 }, (_, i) => 768 + i);
    for (const s of slots) core.writePgd(pgd.pfn, s, (dm.pfn << 12) | PTE_P | PTE_W);
    this.kernelSpace = this.#newSpaceRecord(pgd);
    // The default IDT: a frame below the allocator's range, so it moves no other physical address.
    core.frameAt(DEFAULT_IDT_PHYS >> 12);
    this.idt = { base: this.#info.pageOffset + BigInt(DEFAULT_IDT_PHYS), limit: 256 * gateSize(this.bitness === 64) - 1 };
    const [idtLo, idtHi] = toLoHi(this.idt.base);
    const memory = { read: (virt: bigint, size: 1 | 2 | 4 | 8) => this.read(virt, size), write: (virt: bigint, size: 1 | 2 | 4 | 8, v: bigint) => { this.write(virt, size, v); } };
    const cpus: Cpu[] = [];
    for (let i = 0; i < config.cpus; i++) {
      const c = new CpuState(i, core);
      c.cr3 = pgd.pfn << 12;
      c.cs = this.#info.kernelCs;
      c.ss = this.#info.kernelSs;
      c.idtLo = idtLo;
      c.idtHi = idtHi;
      c.idtLimit = this.idt.limit;
      core.cpus.push(c);
      cpus.push(new Cpu(c, memory));
    }
    this.cpus = cpus;
  }

  #newSpaceRecord(pgd: Frame): AddressSpace {
    const cr3 = BigInt(pgd.pfn) << 12n;
    const s: AddressSpace = { id: this.#core.spaces.length, cr3, pgd: this.#info.pageOffset + cr3 };
    this.#core.spaces.push(s);
    return s;
  }

  /** A new task address space; its pgd starts as a copy of the reference table's kernel half (as pgd_alloc does). */
  createAddressSpace(): AddressSpace {
    const core = this.#core;
    const pgd = core.newPgdFrame();
    const ref = Number(this.kernelSpace.cr3 >> 12n);
    for (let i = this.#info.kernelPgdStart; i < this.#info.pgdEntries; i++) {
      const e = core.readPgd(ref, i);
      if (e !== 0) core.writePgd(pgd.pfn, i, e);
    }
    this.#mapVersion++;
    return this.#newSpaceRecord(pgd);
  }

  get addressSpaces(): readonly AddressSpace[] {
    return this.#core.spaces;
  }

  /**
   * Maps `size` bytes (rounded out to pages) at `virt`; a pgd slot with no table gets one in
   * this space only (see mapPages).
   */
  map(virt: bigint, size: number, options: MapOptions = {}): void {
    mapPages(this.#core, this.#info, options.space ?? this.kernelSpace, virt, size, options);
    this.#mapVersion++;
  }

  /** Removes mappings (pages not mapped are ignored). */
  unmap(virt: bigint, size: number, options: { space?: AddressSpace } = {}): void {
    unmapPages(this.#core, options.space ?? this.kernelSpace, virt, size);
    this.#mapVersion++;
  }

  #checkVirt(virt: bigint): void {
    checkVirt(this.bitness, virt);
  }

  #lookup(virt: bigint, space: AddressSpace): { f: Frame; off: number } | undefined {
    return lookupPage(this.#core, virt, space);
  }

  /** Physical address of a virtual one in a space (undefined when not mapped there). */
  translate(virt: bigint, space: AddressSpace = this.kernelSpace): bigint | undefined {
    const r = this.#lookup(virt, space);
    return r ? BigInt(r.f.pfn) * 4096n + BigInt(r.off) : undefined;
  }

  /** Writes bytes through a space's mapping (from outside the machine: counts as a write by no CPU). */
  writeBytes(virt: bigint, bytes: ArrayLike<number>, space: AddressSpace = this.kernelSpace): void {
    writeThrough(this.#core, virt, bytes, space);
  }

  readBytes(virt: bigint, length: number, space: AddressSpace = this.kernelSpace): Uint8Array {
    return readThrough(this.#core, virt, length, space);
  }

  /** Reads a little-endian value of 1, 2, 4 or 8 bytes. */
  read(virt: bigint, size: 1 | 2 | 4 | 8, space: AddressSpace = this.kernelSpace): bigint {
    accessSize(size, 'read size');
    const b = this.readBytes(virt, size, space);
    let v = 0n;
    for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
    return v;
  }

  /** Writes a little-endian value; it must fit `size` bytes (unsigned, or negative in two's complement). */
  write(virt: bigint, size: 1 | 2 | 4 | 8, value: bigint, space: AddressSpace = this.kernelSpace): void {
    fitting(value, accessSize(size, 'write size') * 8, `write of ${size} bytes: value`);
    const v = BigInt.asUintN(size * 8, value);
    this.writeBytes(virt, Array.from({ length: size }, (_, i) => Number((v >> BigInt(8 * i)) & 0xffn)), space);
  }

  /**
   * Places assembled code (or raw bytes at an origin) into mapped memory and adds its symbols.
   * Code must not overlap code loaded before, and every byte must be mapped.
   */
  loadCode(code: Pick<AssembledCode, 'origin' | 'bytes'> & { readonly symbols?: ReadonlyMap<string, bigint> }, options: LoadOptions = {}): void {
    const space = options.space ?? this.kernelSpace;
    const start = code.origin;
    const end = code.origin + BigInt(code.bytes.length);
    for (const r of this.#code) {
      if (r.space === space.id && start < r.end && r.start < end) {
        throw new CpuError('KERNSIM_CPU_OVERLAP', `code at 0x${start.toString(16)}-0x${end.toString(16)} overlaps code loaded at 0x${r.start.toString(16)}-0x${r.end.toString(16)}`);
      }
    }
    for (let a = start & ~0xfffn; a < end; a += 4096n) {
      if (!this.#lookup(a < start ? start : a, space)) throw new CpuError('KERNSIM_CPU_UNMAPPED', `code at 0x${start.toString(16)}: page 0x${a.toString(16)} is not mapped`);
    }
    this.writeBytes(start, code.bytes, space);
    for (let a = start & ~0xfffn; a < end; a += 4096n) {
      const r = this.#lookup(a < start ? start : a, space)!;
      r.f.flags |= F_CODE;
      r.f.ops ??= new Array<undefined>(4096).fill(undefined);
    }
    this.#code.push({ start, end, space: space.id });
    if (code.symbols) this.addSymbols(code.symbols);
    for (const c of this.#core.cpus) c.serialize();
  }

  addSymbols(symbols: ReadonlyMap<string, bigint> | Iterable<readonly [string, bigint]>): void {
    for (const [k, v] of symbols) this.#symbols.set(k, v);
    this.#symbolTable = undefined;
  }

  get symbols(): SymbolTable {
    this.#symbolTable ??= new SymbolTable(this.#symbols);
    return this.#symbolTable;
  }

  /** Resolves a symbol name or passes an address through. */
  address(target: bigint | string): bigint {
    if (typeof target === 'bigint') return target;
    const a = this.#symbols.get(target);
    if (a === undefined) throw new CpuError('KERNSIM_CPU_BAD_ARGUMENT', `unknown symbol ${target}`);
    return a;
  }

  /**
   * Writes a present gate descriptor into an IDT in simulated memory: by default the machine's
   * own table (`idt.base`, which every CPU's IDTR points at after reset, so it is shared like
   * Linux's idt_table); with `{ table }` any other table, e.g. one a CPU switches to with `lidt`.
   */
  setGate(vector: number, gate: GateOptions, options: GateTableOptions = {}): void {
    const ist = gate.ist ?? 0;
    if (!Number.isInteger(ist) || ist < 0 || ist > 7 || (ist !== 0 && this.bitness !== 64)) throw new CpuError('KERNSIM_CPU_BAD_ARGUMENT', `IST index must be 0..7 (x86_64 only), got ${ist}`);
    const dpl: number = gate.dpl ?? 0;
    if (dpl !== 0 && dpl !== 3) throw new CpuError('KERNSIM_CPU_BAD_ARGUMENT', `gate DPL must be 0 or 3, got ${String(dpl)}`);
    if (gate.type !== undefined) oneOf(gate.type, ['interrupt', 'trap'], 'gate type');
    const handler = this.address(gate.handler);
    const bytes = encodeGate(this.bitness === 64, { handler, selector: this.#info.kernelCs, dpl, ist, type: gate.type === 'trap' ? GATE_TRAP : GATE_INTERRUPT, present: true });
    this.writeBytes(this.#gateAddress(vector, options), bytes);
  }

  /** Clears a gate (P=0): delivering through it raises #GP. */
  clearGate(vector: number, options: GateTableOptions = {}): void {
    this.writeBytes(this.#gateAddress(vector, options), new Array<number>(gateSize(this.bitness === 64)).fill(0));
  }

  /** Reads a gate back from an IDT in memory (undefined when not present). */
  getGate(vector: number, options: GateTableOptions = {}): GateInfo | undefined {
    const g = decodeGate(this.bitness === 64, this.readBytes(this.#gateAddress(vector, options), gateSize(this.bitness === 64)));
    if (!g.present) return undefined;
    return { handler: g.handler, dpl: g.dpl, ist: g.ist, type: g.type === GATE_TRAP ? 'trap' : 'interrupt', selector: g.selector };
  }

  #gateAddress(vector: number, options: GateTableOptions): bigint {
    if (!Number.isInteger(vector) || vector < 0 || vector > 255) throw new CpuError('KERNSIM_CPU_BAD_ARGUMENT', `vector must be 0..255, got ${vector}`);
    const base = options.table === undefined ? this.idt.base : this.address(options.table);
    return base + BigInt(vector * gateSize(this.bitness === 64));
  }

  #cpu(i: number): CpuState {
    const c = this.#core.cpus[i];
    if (!c) throw new CpuError('KERNSIM_CPU_BAD_ARGUMENT', `no CPU ${i}; the machine has CPUs 0..${this.#core.cpus.length - 1}`);
    return c;
  }

  /** Brings a CPU online at `rip` with `rsp`, in CPL 0 (or 3) and the given address space. */
  start(cpu: number, options: StartOptions): void {
    const c = this.#cpu(cpu);
    const info = this.#info;
    const space = options.space ?? this.kernelSpace;
    const view = this.cpus[cpu]!;
    const rip = this.address(options.rip);
    this.#checkVirt(rip);
    this.#checkVirt(options.rsp);
    const cpl = intIn(options.cpl ?? 0, 0, 3, 'start cpl');
    if (cpl === 1 || cpl === 2) throw new CpuError('KERNSIM_CPU_BAD_ARGUMENT', `start cpl must be 0 or 3, got ${cpl}`);
    view.rip = rip;
    view.rsp = options.rsp;
    c.cpl = cpl;
    c.cs = c.cpl === 3 ? info.userCs : info.kernelCs;
    c.ss = c.cpl === 3 ? info.userSs : info.kernelSs;
    c.cr3 = Number(space.cr3);
    if (options.interrupts) c.fl |= FL_IF;
    else c.fl &= ~FL_IF;
    c.state = RUNNING;
    c.flushTlb();
    c.serialize();
  }

  /** An external NMI at a CPU (recorded in the schedule). */
  injectNmi(cpu: number): void {
    const c = this.#cpu(cpu);
    this.#log.record(encode({ kind: 'nmi', cpu }), 1);
    raiseNmi(c, 'external');
  }

  /** An external maskable interrupt at a CPU (recorded in the schedule). */
  injectIrq(cpu: number, vector: number): void {
    checkEntry({ kind: 'irq', cpu, vector }, this.cpus.length);
    this.#log.record(encode({ kind: 'irq', cpu, vector }), 1);
    raiseIrq(this.#cpu(cpu), vector);
  }

  /** Steps one CPU once (recorded in the schedule). */
  step(cpu: number): void {
    const c = this.#cpu(cpu);
    this.#log.step(cpu);
    step(c);
  }

  /** Whether stepping the CPU can do anything (running, or halted with a wake-up source). */
  isRunnable(cpu: number): boolean {
    return runnable(this.#cpu(cpu));
  }

  /** Runs under a scheduler; every choice is appended to `schedule()`. */
  run(options: RunOptions = {}): RunResult {
    const max = options.steps ?? 1_000_000;
    if (!Number.isInteger(max) || max < 0) throw new CpuError('KERNSIM_CPU_BAD_ARGUMENT', `steps must be a non-negative integer, got ${max}`);
    const sched = options.scheduler ?? { kind: 'round-robin' };
    checkScheduler(sched);
    const until = options.until;
    if (sched.kind === 'round-robin') {
      const quantum = sched.quantum ?? 1;
      if (!Number.isInteger(quantum) || quantum < 1) throw new CpuError('KERNSIM_CPU_BAD_ARGUMENT', `round-robin quantum must be a positive integer, got ${quantum}`);
      const out = this.#stepsOut;
      const reason = runRoundRobin(this.#core.cpus, this.#log, this.#rr, max, quantum, until === undefined ? undefined : () => until(this), out);
      return { steps: out.steps, reason };
    }
    const cpus = this.#core.cpus;
    const n = cpus.length;
    let pos = 0;
    for (let s = 0; s < max; s++) {
      if (until?.(this)) return { steps: s, reason: 'until' };
      if (sched.kind === 'replay') {
        for (;;) {
          const e = sched.schedule[pos++];
          if (e === undefined) return { steps: s, reason: 'schedule-end' };
          checkEntry(e, n);
          if (e.kind === 'step') {
            this.step(e.cpu);
            break;
          }
          if (e.kind === 'nmi') this.injectNmi(e.cpu);
          else this.injectIrq(e.cpu, e.vector);
        }
        continue;
      }
      if (sched.nmiChance && nextRandom(this.#rng) < sched.nmiChance) this.injectNmi(Math.floor(nextRandom(this.#rng) * n));
      if (sched.irqChance && nextRandom(this.#rng) < sched.irqChance) this.injectIrq(Math.floor(nextRandom(this.#rng) * n), sched.irqVector ?? 0x20);
      let count = 0;
      for (const c of cpus) if (runnable(c)) count++;
      if (count === 0) return { steps: s, reason: 'idle' };
      let k = Math.floor(nextRandom(this.#rng) * count);
      for (const c of cpus) {
        if (runnable(c) && k-- === 0) {
          this.#log.step(c.id);
          step(c);
          break;
        }
      }
    }
    return { steps: max, reason: 'steps' };
  }

  /** Every choice made so far (steps and injected events), replayable with `{ kind: 'replay' }`; empty when recording is off. */
  schedule(): ScheduleEntry[] {
    return this.#log.entries();
  }

  /** Whether scheduling choices are recorded (`createMachine({ recordSchedule })`). */
  get recordsSchedule(): boolean {
    return this.#log.enabled;
  }

  /** How many choices `schedule()` would list, without expanding them. */
  get scheduleLength(): number {
    return this.#log.length;
  }

  /** Simulated time: the largest cycle counter of any CPU (each CPU's own is `cpus[i].cycles`). */
  get cycles(): number {
    let max = 0;
    for (const c of this.#core.cpus) if (c.cycles > max) max = c.cycles;
    return max;
  }

  /** IPIs that arrived at an online CPU, over all CPUs (each destination of a broadcast counts). */
  get ipisDelivered(): number {
    let n = 0;
    for (const c of this.#core.cpus) n += c.ipisDelivered;
    return n;
  }

  /** The cycle model this machine charges ('flat' or 'modelled') and its figures, each with its source. */
  get timing(): { readonly kind: 'flat' | 'modelled'; readonly costs: CostTable } {
    return { kind: this.#core.timing.kind, costs: this.#core.timing.costs };
  }

  /** The serial console output so far. */
  get console(): string {
    return this.#core.console;
  }

  /** Watches writes to a virtual range (reported in the trace as 'write' events). */
  watch(virt: bigint, length: number, label: string, space: AddressSpace = this.kernelSpace): void {
    addWriteWatch(this.#core, virt, length, label, space);
  }

  /**
   * Calls `callback(cpu, rip, bytes)` whenever a CPU is about to execute an instruction that
   * starts in [virt, virt+length), with the bytes it executes (after the cross-modifying-code
   * check passed). Costs nothing on pages without a watch. Returns a function that removes it.
   */
  onExecute(virt: bigint, length: number, callback: ExecCallback, space: AddressSpace = this.kernelSpace): () => void {
    return addExecWatch(this.#core, virt, length, callback, space);
  }

  /** Starts recording a trace (replacing any earlier one). */
  startTrace(filter: TraceFilter = {}): void {
    this.#trace = new TraceRecorder(filter, () => this.symbols, this.bitness);
    this.#core.tracer = this.#trace;
  }

  stopTrace(): void {
    this.#core.tracer = null;
  }

  /** Events recorded since `startTrace` (empty if never started). */
  get trace(): readonly TraceEvent[] {
    return this.#trace?.events ?? [];
  }

  formatTrace(events: readonly TraceEvent[] = this.trace): string {
    return events.map(formatEvent).join('\n');
  }

  traceHash(): string {
    return hashTrace(this.trace);
  }

  /** The words of a stack range, each labelled with the delivered frame and field that last wrote it (needs 'delivery' tracing). */
  stackView(cpu: number, from: bigint, to: bigint): StackWord[] {
    const c = this.#cpu(cpu);
    const w = this.bitness === 64 ? 8 : 4;
    const words = (address(to, 'stackView to') - address(from, 'stackView from')) / BigInt(w);
    if (words > BigInt(STACK_VIEW_WORDS)) throw new CpuError('KERNSIM_CPU_BAD_ARGUMENT', `stackView covers ${words} words (0x${from.toString(16)}-0x${to.toString(16)}); at most ${STACK_VIEW_WORDS} per call: page through a larger range in several calls`);
    const values: bigint[] = [];
    for (let a = from; a < to; a += BigInt(w)) {
      let v: bigint | undefined;
      try {
        const lo = rd(c, Number(a & 0xffffffffn), Number((a >> 32n) & 0xffffffffn), w);
        v = w === 8 ? (BigInt(c.vh >>> 0) << 32n) | BigInt(lo >>> 0) : BigInt(lo >>> 0);
      } catch (e) {
        if (e !== FAULT) throw e;
        v = undefined;
      }
      values.push(v ?? -1n);
    }
    return buildStackView(this.trace, cpu, from, w, values);
  }

  /** Brings all dirty memory chunks into the running hash and mixes in every CPU: cheap after one instruction. */
  hash(): string {
    return machineHash(this.#core, this.#mapVersion, this.#hashOut);
  }

  /** Captures the whole machine (memory is shared copy-on-write, so this is cheap). */
  snapshot(): Snapshot {
    const hash = this.hash();
    return { hash, state: captureState(this.#core, { rng: this.#rng.rng, rr: this.#rr.rr, mapVersion: this.#mapVersion, schedule: this.#log.mark(), identity: this.#identity() }) };
  }

  #identity(): MachineIdentity {
    const core = this.#core;
    return { arch: this.arch, cpus: core.cpus.length, memoryMiB: core.maxFrames / 256, timing: core.timing.kind };
  }

  /** Returns the machine to a snapshot taken from it (or from a machine built the same way); the recorded schedule is cut back too. */
  restore(snapshot: Snapshot): void {
    const st = checkSnapshot(snapshot, this.#identity());
    const x = restoreState(this.#core, st);
    if (this.#core.execWatches.length > 0) flagExecWatches(this.#core);
    this.#rng.rng = x.rng;
    this.#rr.rr = x.rr;
    this.#mapVersion = x.mapVersion;
    this.#log.cut(x.schedule);
  }

  /** Whether a CPU died of a triple fault. */
  isDead(cpu: number): boolean {
    return this.#cpu(cpu).state === DEAD;
  }

  isHalted(cpu: number): boolean {
    return this.#cpu(cpu).state === HALTED;
  }
}
