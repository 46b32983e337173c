import { SymbolTable } from '../asm/symbols.js';
import { CpuError } from '../errors.js';
import { I386, toLoHi, X86_64 } from './arch.js';
import type { Arch, ArchInfo } from './arch.js';
import { CpuState, DEAD, FL_IF, HALTED, RUNNING } from './cpu.js';
import { Cpu } from './cpu-view.js';
import type { IdtRegister } from './cpu-view.js';
import { MachineCore, PTE_P, PTE_W } from './core.js';
import type { AddressSpace, ExecCallback } from './core.js';
import { addExecWatch, addWriteWatch, flagExecWatches } from './watches.js';
import { checkVirt, lookupPage, mapPages, readThrough, unmapPages, writeThrough } from './address-space-ops.js';
import { DEFAULT_IDT_PHYS, gateSize } from './idt.js';
import { gateAddress, gateBytes, gateInfo } from './gates.js';
import { placeCode } from './code-load.js';
import type { CodeRegion, LoadableCode } from './code-load.js';
import { resolveConfig, resolveExecution } from './machine-config.js';
import { runRandom, runReplay } from './scheduled-run.js';
import { raiseIrq, raiseNmi } from './events.js';
import { runnable, step } from './exec.js';
import type { Frame } from './frame.js';
import { checkEntry, checkScheduler, encode, ScheduleLog } from './schedule.js';
import type { ScheduleEntry } from './schedule.js';
import { runRoundRobin } from './round-robin.js';
import { resolveTiming } from './timing/model.js';
import type { CostTable } from './timing/costs.js';
import { accessSize, fitting, intIn } from './validate.js';
import type { RoundRobinState } from './round-robin.js';
import { captureState, machineHash, machineHashWords, memoryHashWords, restoreState } from './machine-state.js';
import { checkSnapshot } from './machine-state.js';
import type { MachineIdentity } from './machine-state.js';
import { formatEvent, hashTrace, TraceRecorder } from './trace.js';
import type { TraceEvent, TraceFilter } from './trace.js';
import { buildStackView, readStack } from './stack-view.js';
import type { GateInfo, GateOptions, GateTableOptions, LoadOptions, MachineConfig, MapOptions, RunOptions, RunResult, Snapshot, StartOptions } from './machine-options.js';

export type { GateInfo, GateOptions, GateTableOptions, LoadOptions, MachineConfig, MapOptions, RunOptions, RunResult, Snapshot, StartOptions } from './machine-options.js';
import type { StackWord } from './stack-view.js';

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
  readonly #code: CodeRegion[] = [];
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
    const rc = resolveConfig(config);
    const mib = rc.memoryMiB;
    this.arch = config.arch;
    this.#info = config.arch === 'x86_64' ? X86_64 : I386;
    this.bitness = this.#info.bitness;
    this.#rng = { rng: rc.seed | 0 };
    this.#log = new ScheduleLog(config.cpus);
    this.#log.enabled = config.recordSchedule ?? true;
    const timing = resolveTiming(config.timing, rc.cyclesPerInstruction, config.costs, config.topology);
    const core = new MachineCore(this.#info, timing, rc.serialCyclesPerByte, mib * 256, rc.tornCode, config.cpus);
    this.#core = core;
    core.blocks = resolveExecution(config);
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
      const c = new CpuState(i, core, core.cpuFile);
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
  loadCode(code: LoadableCode, options: LoadOptions = {}): void {
    placeCode(this.#core, this.#code, code, options.space ?? this.kernelSpace);
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
    const bytes = gateBytes(this.bitness === 64, this.#info.kernelCs, gate, (t) => this.address(t));
    this.writeBytes(this.#gateAddress(vector, options), bytes);
  }

  /** Clears a gate (P=0): delivering through it raises #GP. */
  clearGate(vector: number, options: GateTableOptions = {}): void {
    this.writeBytes(this.#gateAddress(vector, options), new Array<number>(gateSize(this.bitness === 64)).fill(0));
  }

  /** Reads a gate back from an IDT in memory (undefined when not present). */
  getGate(vector: number, options: GateTableOptions = {}): GateInfo | undefined {
    return gateInfo(this.bitness === 64, this.readBytes(this.#gateAddress(vector, options), gateSize(this.bitness === 64)));
  }

  #gateAddress(vector: number, options: GateTableOptions): bigint {
    return gateAddress(this.bitness === 64, vector, () => (options.table === undefined ? this.idt.base : this.address(options.table)));
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
    const check = until === undefined ? undefined : () => until(this);
    if (sched.kind === 'round-robin') {
      const quantum = sched.quantum ?? 1;
      if (!Number.isInteger(quantum) || quantum < 1) throw new CpuError('KERNSIM_CPU_BAD_ARGUMENT', `round-robin quantum must be a positive integer, got ${quantum}`);
      const out = this.#stepsOut;
      const reason = runRoundRobin(this.#core.cpus, this.#log, this.#rr, max, quantum, check, out);
      return { steps: out.steps, reason };
    }
    if (sched.kind === 'replay') return runReplay(this, this.#core.cpus, this.#log, sched.schedule, max, check);
    return runRandom(this, this.#core.cpus, this.#log, this.#rng, sched, max, check);
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
    return buildStackView(this.trace, cpu, from, w, readStack(c, from, to, w));
  }

  /** Brings all dirty memory chunks into the running hash and mixes in every CPU: cheap after one instruction. */
  hash(): string {
    return machineHash(this.#core, this.#mapVersion, this.#hashOut);
  }

  /** `hash()` as two 32-bit words, written to `out[0]` and `out[1]` (no string is built); with four, `out[2..3]` get the memory-and-mappings part alone. */
  hashWords(out: Int32Array): void {
    if (!(out instanceof Int32Array) || out.length < 2) throw new CpuError('KERNSIM_CPU_BAD_ARGUMENT', 'hashWords needs an Int32Array of at least 2 elements');
    machineHashWords(this.#core, this.#mapVersion, out);
  }

  /**
   * The memory-and-mappings part of `hashWords` alone (what it writes to `out[2..3]`), in
   * `out[0]`, `out[1]`: equal from one state to the next when no byte and no mapping changed.
   * Cheaper than `hashWords` (no CPU is hashed): the explorer takes it where it keeps no key.
   */
  memoryHashWords(out: Int32Array): void {
    if (!(out instanceof Int32Array) || out.length < 2) throw new CpuError('KERNSIM_CPU_BAD_ARGUMENT', 'memoryHashWords needs an Int32Array of at least 2 elements');
    memoryHashWords(this.#core, this.#mapVersion, out);
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
