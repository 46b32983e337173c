import type { AddressSpace, Arch, Machine } from '@kernsim/cpu-core';
import { createMachine, SymbolTable } from '@kernsim/cpu-core';
import { mapKernelMemory, mapPerfBuffers, taskSpaces, writeTasks } from './boot-memory.js';
import { installIdt, startCpus, writeKernelTables } from './boot-setup.js';
import type { BuildContext } from './build-context.js';
import { NMI_TYPE } from './code/nmi-chain.js';
import type { NmiType } from './code/nmi-chain.js';
import { KernelError } from './errors.js';
import { arch32 } from './i386/arch-i386.js';
import { buildKernelImage } from './kernel-image.js';
import type { KernelImage } from './kernel-image.js';
import { MAX_TASKS } from './kernel-data.js';
import type { NmiEntry } from './nmi-entry.js';
import { PERCPU, PMU } from './percpu.js';
import type { PercpuField } from './percpu.js';
import type { TaskProgram } from './user-programs.js';
import { arch64, TSS_PERCPU_OFFSET } from './x86_64/arch-x86_64.js';

/** One CPU's running task. */
export interface CpuTask {
  readonly program: TaskProgram;
  /** Whether the task's page table already has the perf buffer's vmalloc mapping. */
  readonly bufferSynced?: boolean;
  /** Hard-lockup detector state: true when the timer has not ticked since the last check. */
  readonly lockedUp?: boolean;
}

export interface BootOptions {
  readonly arch: Arch;
  readonly entry: NmiEntry;
  /** One entry per CPU. */
  readonly cpus: readonly CpuTask[];
  /** Sleeping tasks (shown by show_state); `badFrame` gives one a frame pointer into unmapped memory. */
  readonly sleepers?: readonly { readonly name: string; readonly badFrame?: boolean }[];
  /** Functions to put a kprobe on (their first instruction is copied out of line). */
  readonly kprobes?: readonly string[];
  /** Extra machine code assembled into the kernel text (e.g. an int3 handler of a text patcher). */
  readonly extraCode?: (ctx: BuildContext) => void;
  readonly seed?: number;
  /** Serial line cost (default: cpu-core's 115200-baud figure). */
  readonly serialCyclesPerByte?: number;
}

export interface TaskInfo {
  readonly index: number;
  readonly name: string;
  readonly pid: number;
  readonly address: bigint;
  /** CPU it runs on, or undefined for a sleeping task. */
  readonly cpu: number | undefined;
  readonly space: AddressSpace;
  readonly stackTop: bigint;
}

/** A booted kernel: the machine, where everything is, and the hardware-side helpers. */
export interface Kernel {
  readonly machine: Machine;
  readonly image: KernelImage;
  readonly entry: NmiEntry;
  readonly symbols: SymbolTable;
  readonly tasks: readonly TaskInfo[];
  readonly cpuCount: number;
  /** Address of a code or data symbol. */
  symbol(name: string): bigint;
  percpuBase(cpu: number): bigint;
  readPercpu(cpu: number, field: PercpuField): bigint;
  writePercpu(cpu: number, field: PercpuField, value: bigint): void;
  /** Top of the NMI IST stack (x86_64) or of the running task's kernel stack (i386). */
  nmiStackTop(cpu: number): bigint;
  debugStackTop(cpu: number): bigint;
  /** The sampler's vmalloc'd buffer of a CPU. */
  perfBuffer(cpu: number): bigint;
  /** The PMU: sets the counter's overflow bit and raises its NMI (recorded in the machine's schedule). */
  raisePmuNmi(cpu: number, source: 'watchdog' | 'sampler'): void;
  /** Adds a handler (symbol or address) to an NMI chain, as register_nmi_handler does: handler(di = type, si = regs) -> ax = events handled. */
  registerNmiHandler(type: NmiType, handler: string | bigint): void;
  /** Adds a handler (symbol or address) to the int3 chain that runs before kprobes: handler(di = regs) -> ax != 0 when it handled the trap. */
  registerInt3Handler(handler: string | bigint): void;
}

/** Assembled images by entry id and configuration: assembling is most of a boot's cost (an entry's id names its code). */
const IMAGES = new Map<string, KernelImage>();

function imageFor(options: BootOptions, names: readonly string[]): KernelImage {
  const { arch, entry } = options;
  const archCode = arch === 'x86_64'
    ? arch64({ tssInPercpu: TSS_PERCPU_OFFSET, nmiSafeReturn: entry.exceptionReturn === 'ret-in-nmi', ...(entry.generalProtectionHook ? { generalProtectionHook: entry.generalProtectionHook } : {}) })
    : arch32();
  const key = `${arch}|${entry.id}|${names.join(',')}|${(options.kprobes ?? []).join(',')}`;
  if (options.extraCode) return buildKernelImage(arch, entry, archCode, names, options.extraCode);
  let image = IMAGES.get(key);
  if (!image) {
    image = buildKernelImage(arch, entry, archCode, names);
    if (IMAGES.size > 64) IMAGES.clear();
    IMAGES.set(key, image);
  }
  return image;
}

/**
 * Boots the kernel: builds and loads the image, maps memory (kernel image, per-CPU
 * areas, exception stacks, task stacks, each user task's address space, and the perf
 * buffers in the vmalloc area, which user tasks' tables lack until they fault), fills
 * the tables, installs the IDT, and starts each CPU in its first task through
 * `cpu_startup`. Everything after this runs as machine code.
 */
export function bootKernel(options: BootOptions): Kernel {
  const { arch, entry } = options;
  if (options.cpus.length < 1) throw new KernelError('KERNSIM_KERNEL_BAD_OPTIONS', 'a kernel needs at least one CPU');
  const sleepers = options.sleepers ?? [];
  const names = [...options.cpus.map((c, i) => runningName(c.program, i)), ...sleepers.map((s) => s.name)];
  if (names.length > MAX_TASKS) throw new KernelError('KERNSIM_KERNEL_TABLE_FULL', `at most ${MAX_TASKS} tasks, asked for ${names.length}`);
  const image = imageFor(options, names);
  const { layout } = image;
  const w = image.isa.w;
  const ncpu = options.cpus.length;
  const m = createMachine({
    arch,
    cpus: ncpu,
    seed: options.seed ?? 1,
    ...(options.serialCyclesPerByte !== undefined ? { serial: { cyclesPerByte: options.serialCyclesPerByte } } : {}),
  });
  mapKernelMemory(m, image, ncpu, names.length);
  const spaces = taskSpaces(m, image, options.cpus);
  const buffers = mapPerfBuffers(m, image, options.cpus, spaces);
  const extraSymbols = new Map<string, bigint>();
  const symbol = (name: string): bigint => {
    const v = image.symbols.get(name) ?? extraSymbols.get(name);
    if (v === undefined) throw new KernelError('KERNSIM_KERNEL_UNKNOWN_SYMBOL', `no kernel symbol ${name}`);
    return v;
  };
  m.write(symbol('init_pgd'), w, m.kernelSpace.pgd);
  const tasks = writeTasks(m, image, names, spaces, (i) => sleepers[i]?.badFrame ?? false, symbol);
  const tables = writeKernelTables(m, image, options.kprobes ?? [], symbol, extraSymbols);
  const percpuBase = (cpu: number): bigint => layout.percpu + BigInt(cpu * layout.percpuStride);
  const pcAddr = (cpu: number, f: PercpuField): bigint => percpuBase(cpu) + BigInt(PERCPU[f] * w);
  const places = {
    percpuBase,
    nmiStackTop: (cpu: number): bigint => (arch === 'x86_64' ? layout.ist + BigInt(cpu * layout.istStride + layout.nmiStack[1]) : tasks[cpu]!.stackTop),
    debugStackTop: (cpu: number): bigint => layout.ist + BigInt(cpu * layout.istStride + layout.debugStack[1]),
  };
  options.cpus.forEach((c, cpu) => {
    const set = (f: PercpuField, v: bigint): void => {
      m.write(pcAddr(cpu, f), w, v);
    };
    set('self', percpuBase(cpu));
    set('currentTask', tasks[cpu]!.address);
    set('kernelStack', tasks[cpu]!.stackTop);
    set('cpuNumber', BigInt(cpu));
    set('debugStackAddr', places.debugStackTop(cpu));
    set('nmiStackTop', places.nmiStackTop(cpu));
    set('hrtimerInterrupts', 5n);
    set('hrtimerInterruptsSaved', c.lockedUp ? 5n : 4n);
    set('perfBuffer', buffers[cpu]!);
  });
  installIdt(m, image, symbol);
  startCpus(m, image, options.cpus, tasks, spaces, places, (c) => symbol(programEntry(c.program)));
  const address = (handler: string | bigint): bigint => (typeof handler === 'bigint' ? handler : symbol(handler));
  return {
    machine: m,
    image,
    entry,
    symbols: new SymbolTable([...image.symbols, ...extraSymbols]),
    tasks,
    cpuCount: ncpu,
    symbol,
    ...places,
    readPercpu: (cpu, f) => m.read(pcAddr(cpu, f), w),
    writePercpu: (cpu, f, v) => {
      m.write(pcAddr(cpu, f), w, v);
    },
    perfBuffer: (cpu) => buffers[cpu]!,
    raisePmuNmi(cpu, source) {
      const a = pcAddr(cpu, 'pmuStatus');
      m.write(a, w, m.read(a, w) | BigInt(source === 'watchdog' ? PMU.watchdog : PMU.sampler));
      m.injectNmi(cpu);
    },
    registerNmiHandler(type, handler) {
      tables.registerNmiHandler(type, address(handler));
    },
    registerInt3Handler(handler) {
      tables.registerInt3Handler(address(handler));
    },
  };
}

function runningName(p: TaskProgram, cpu: number): string {
  switch (p.kind) {
    case 'user-syscalls':
      return `getpid-loop/${String(cpu)}`;
    case 'user-stack-pointer':
      return `odd-rsp/${String(cpu)}`;
    case 'kernel-lockup':
      return `lockup/${String(cpu)}`;
    case 'kernel-loop':
      return `kworker/${String(cpu)}:0`;
    case 'kernel-probed-loop':
      return `kprobed/${String(cpu)}`;
  }
}

function programEntry(p: TaskProgram): string {
  switch (p.kind) {
    case 'user-syscalls':
      return 'user_syscall_loop';
    case 'user-stack-pointer':
      return 'user_stack_pointer';
    case 'kernel-lockup':
      return 'kthread_lockup';
    case 'kernel-loop':
      return 'kthread_loop';
    case 'kernel-probed-loop':
      return 'kthread_probed_loop';
  }
}

export { NMI_TYPE };
