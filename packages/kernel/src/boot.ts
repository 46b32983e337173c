import type { Arch } from '@kernsim/cpu-core';
import { createMachine, decodeOne, SymbolTable, VECTOR } from '@kernsim/cpu-core';
import type { AddressSpace, Machine } from '@kernsim/cpu-core';
import type { BuildContext } from './build-context.js';
import { KPROBE, KPROBE_SLOTS } from './code/kprobes.js';
import { NMI_TABLE_SLOTS, NMI_TYPE } from './code/nmi-chain.js';
import type { NmiType } from './code/nmi-chain.js';
import { TASK } from './code/show-state.js';
import { packWords } from './data-area.js';
import { KernelError } from './errors.js';
import { arch32 } from './i386/arch-i386.js';
import { buildKernelImage } from './kernel-image.js';
import type { KernelImage } from './kernel-image.js';
import { MAX_EXTABLE, MAX_TASKS, NMI_IDT_BYTES } from './kernel-data.js';
import type { NmiEntry } from './nmi-entry.js';
import { PERCPU, PMU } from './percpu.js';
import type { PercpuField } from './percpu.js';
import { KERNEL_VECTOR } from './vectors.js';
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

const BUFFER_BYTES = 4096;

/** Assembled images by entry id and configuration: assembling is most of a boot's cost (an entry's id names its code). */
const IMAGES = new Map<string, KernelImage>();

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
  const archCode = arch === 'x86_64' ? arch64({ tssInPercpu: TSS_PERCPU_OFFSET }) : arch32();
  const probesKey = (options.kprobes ?? []).join(',');
  const key = `${arch}|${entry.id}|${names.join(',')}|${probesKey}`;
  let image = options.extraCode ? undefined : IMAGES.get(key);
  if (!image) {
    image = buildKernelImage(arch, entry, archCode, names, options.extraCode);
    if (!options.extraCode) {
      if (IMAGES.size > 64) IMAGES.clear();
      IMAGES.set(key, image);
    }
  }
  const { layout, isa } = image;
  const w = isa.w;
  const ncpu = options.cpus.length;
  const m = createMachine({
    arch,
    cpus: ncpu,
    seed: options.seed ?? 1,
    ...(options.serialCyclesPerByte !== undefined ? { serial: { cyclesPerByte: options.serialCyclesPerByte } } : {}),
  });
  const K = m.kernelSpace;

  // Kernel image, data, per-CPU areas, exception stacks, task stacks, kprobe slots.
  m.map(layout.text, layout.textSize, { writable: false });
  m.map(layout.data, layout.dataSize);
  m.map(layout.kprobeSlots, 4096, { writable: false });
  m.map(layout.extraText, 0x10000);
  m.map(layout.extraData, 0x10000);
  for (let c = 0; c < ncpu; c++) {
    m.map(layout.percpu + BigInt(c * layout.percpuStride), 4096);
    if (arch === 'x86_64') {
      const ist = layout.ist + BigInt(c * layout.istStride);
      m.map(ist + BigInt(layout.nmiStack[0]), layout.nmiStack[1] - layout.nmiStack[0]);
      m.map(ist + BigInt(layout.debugStack[0]), layout.debugStack[1] - layout.debugStack[0]);
      m.map(ist + 0x8000n, 0x1000);
    }
  }
  names.forEach((_, i) => {
    m.map(layout.stacks + BigInt(i * layout.stackStride), layout.threadSize);
  });
  m.loadCode(image.text);
  for (const [, item] of image.data.entries()) m.writeBytes(item.address, item.bytes);
  m.addSymbols(image.symbols);

  // Address spaces: kernel threads run on the reference table, user tasks get their own.
  const spaces: AddressSpace[] = options.cpus.map((c) => (c.program.kind.startsWith('user') ? m.createAddressSpace() : K));
  spaces.forEach((s, i) => {
    if (s === K) return;
    m.map(layout.userText, 4096, { space: s, user: true, writable: false });
    m.loadCode(image.userText, { space: s });
    m.map(layout.userStack + BigInt(i * layout.userStackStride), layout.userStackStride, { space: s, user: true });
  });

  // The perf buffers: vmalloc'd after the task tables exist, so only the reference table has them.
  const buffers = options.cpus.map((_, c) => layout.vmalloc + BigInt(c * BUFFER_BYTES * 2));
  buffers.forEach((b) => {
    m.map(b, BUFFER_BYTES);
  });
  const pgdIndex = (v: bigint): bigint => (arch === 'x86_64' ? (v >> 39n) & 511n : v >> 22n);
  const refEntry = m.read(K.pgd + pgdIndex(layout.vmalloc) * BigInt(w), w);
  options.cpus.forEach((c, i) => {
    const s = spaces[i]!;
    if (s !== K && c.bufferSynced) m.write(s.pgd + pgdIndex(layout.vmalloc) * BigInt(w), w, refEntry);
  });

  const extraSymbols = new Map<string, bigint>();
  const symbol = (name: string): bigint => {
    const v = image.symbols.get(name) ?? extraSymbols.get(name);
    if (v === undefined) throw new KernelError('KERNSIM_KERNEL_UNKNOWN_SYMBOL', `no kernel symbol ${name}`);
    return v;
  };
  const word = (addr: bigint, value: bigint): void => {
    m.write(addr, w, value);
  };
  word(symbol('init_pgd'), K.pgd);

  // Tasks.
  const tasks: TaskInfo[] = names.map((name, i) => {
    const address = symbol(`task_${String(i)}`);
    const stackBase = layout.stacks + BigInt(i * layout.stackStride);
    const stackTop = stackBase + BigInt(layout.threadSize);
    const cpu = i < ncpu ? i : undefined;
    const space = cpu !== undefined ? spaces[cpu]! : K;
    const bad = cpu === undefined && (sleepers[i - ncpu]?.badFrame ?? false);
    const bp = writeFrameChain(m, image, stackTop, bad);
    const fields: bigint[] = new Array<bigint>(TASK.words).fill(0n);
    fields[TASK.pid] = BigInt(i + 1);
    fields[TASK.name] = symbol(`task_name_${String(i)}`);
    fields[TASK.bp] = bp;
    fields[TASK.sp] = bp;
    fields[TASK.state] = BigInt(cpu !== undefined ? 0x52 : 0x53);
    fields[TASK.mm] = space.cr3;
    fields[TASK.cpu] = BigInt(cpu ?? 0);
    fields[TASK.stack] = stackBase;
    m.writeBytes(address, packWords(fields, w));
    word(symbol('task_table') + BigInt(i * w), address);
    return { index: i, name, pid: i + 1, address, cpu, space, stackTop };
  });
  word(symbol('nr_tasks'), BigInt(tasks.length));

  // Tables: NMI chain, exception table, kprobes.
  const table = (name: string, entries: readonly bigint[], capacity: number): void => {
    if (entries.length > capacity) throw new KernelError('KERNSIM_KERNEL_TABLE_FULL', `${name} holds ${capacity} entries`);
    m.writeBytes(symbol(name), packWords([BigInt(entries.length / (name === 'ex_table' ? 2 : name === 'kprobe_table' ? KPROBE.words : 1)), ...entries], w));
  };
  const nmiHandlers: Record<NmiType, bigint[]> = { local: [symbol('perf_event_nmi_handler')], unknown: [] };
  const int3Handlers: bigint[] = [];
  const writeNmiTables = (): void => {
    table('nmi_desc_local', nmiHandlers.local, NMI_TABLE_SLOTS);
    table('nmi_desc_unknown', nmiHandlers.unknown, NMI_TABLE_SLOTS);
    table('int3_chain', int3Handlers, NMI_TABLE_SLOTS);
  };
  writeNmiTables();
  table('ex_table', [symbol('careful_read_insn'), symbol('careful_read_fixup')], 2 * MAX_EXTABLE);
  const probes = options.kprobes ?? [];
  if (probes.length > KPROBE_SLOTS) throw new KernelError('KERNSIM_KERNEL_TABLE_FULL', `at most ${KPROBE_SLOTS} kprobes`);
  const probeEntries: bigint[] = [];
  probes.forEach((name, i) => {
    const addr = symbol(name);
    const bytes = m.readBytes(addr, 16);
    const insn = decodeOne(bytes, addr, isa.bits);
    if (!insn.valid || insn.length < 1) throw new KernelError('KERNSIM_KERNEL_BAD_PROBE', `cannot decode the instruction at ${name}`);
    const slot = layout.kprobeSlots + BigInt(i * 32);
    const back = addr + BigInt(insn.length);
    const jmp = new Uint8Array(5);
    const rel = BigInt.asUintN(32, back - (slot + BigInt(insn.length) + 5n));
    jmp[0] = 0xe9;
    for (let k = 0; k < 4; k++) jmp[k + 1] = Number((rel >> BigInt(8 * k)) & 0xffn);
    m.loadCode({ origin: slot, bytes: Uint8Array.from([...bytes.subarray(0, insn.length), ...jmp]), symbols: new Map([[`kprobe_insn_slot_${name}`, slot]]) });
    extraSymbols.set(`kprobe_insn_slot_${name}`, slot);
    m.writeBytes(addr, [0xcc]);
    probeEntries.push(addr, symbol('kprobe_default_pre'), slot);
  });
  table('kprobe_table', probeEntries, KPROBE_SLOTS * KPROBE.words);

  // Per-CPU areas.
  const percpuBase = (cpu: number): bigint => layout.percpu + BigInt(cpu * layout.percpuStride);
  const pcAddr = (cpu: number, f: PercpuField): bigint => percpuBase(cpu) + BigInt(PERCPU[f] * w);
  const nmiStackTop = (cpu: number): bigint =>
    arch === 'x86_64' ? layout.ist + BigInt(cpu * layout.istStride + layout.nmiStack[1]) : tasks[cpu]!.stackTop;
  const debugStackTop = (cpu: number): bigint => layout.ist + BigInt(cpu * layout.istStride + layout.debugStack[1]);
  options.cpus.forEach((c, cpu) => {
    const set = (f: PercpuField, v: bigint): void => {
      word(pcAddr(cpu, f), v);
    };
    set('self', percpuBase(cpu));
    set('currentTask', tasks[cpu]!.address);
    set('kernelStack', tasks[cpu]!.stackTop);
    set('cpuNumber', BigInt(cpu));
    set('debugStackAddr', debugStackTop(cpu));
    set('nmiStackTop', nmiStackTop(cpu));
    set('hrtimerInterrupts', 5n);
    set('hrtimerInterruptsSaved', c.lockedUp ? 5n : 4n);
    set('perfBuffer', buffers[cpu]!);
  });

  // IDT (machine-wide, as idt_table) and each CPU's start.
  if (arch === 'x86_64') {
    m.setGate(VECTOR.DB, { handler: 'debug', ist: 4 });
    m.setGate(VECTOR.NMI, { handler: 'nmi', ist: 3 });
    m.setGate(VECTOR.BP, { handler: 'int3', ist: 4, dpl: 3 });
    m.setGate(VECTOR.UD, { handler: 'invalid_op' });
    m.setGate(VECTOR.DF, { handler: 'double_fault', ist: 2 });
    m.setGate(VECTOR.GP, { handler: 'general_protection' });
    m.setGate(VECTOR.PF, { handler: 'page_fault' });
    // trap_init's nmi_idt_table: idt_table with #DB and #BP taken on the current stack,
    // loaded by debug_stack_set_zero while an NMI runs over an interrupted debug stack.
    const nmiIdt = symbol('nmi_idt_table');
    m.writeBytes(nmiIdt, m.readBytes(m.idt.base, NMI_IDT_BYTES));
    m.setGate(VECTOR.DB, { handler: 'debug' }, { table: nmiIdt });
    m.setGate(VECTOR.BP, { handler: 'int3', dpl: 3 }, { table: nmiIdt });
    const descr = (name: string, base: bigint): void => {
      m.write(symbol(name), 2, BigInt(NMI_IDT_BYTES - 1));
      m.write(symbol(name) + 2n, 8, base);
    };
    descr('idt_descr', m.idt.base);
    descr('nmi_idt_descr', nmiIdt);
  } else {
    m.setGate(VECTOR.DB, { handler: 'debug' });
    m.setGate(VECTOR.NMI, { handler: 'nmi' });
    m.setGate(VECTOR.BP, { handler: 'int3', dpl: 3 });
    m.setGate(VECTOR.UD, { handler: 'invalid_op' });
    m.setGate(VECTOR.DF, { handler: 'double_fault' });
    m.setGate(VECTOR.GP, { handler: 'general_protection' });
    m.setGate(VECTOR.PF, { handler: 'page_fault' });
    m.setGate(KERNEL_VECTOR.SYSCALL, { handler: 'system_call', dpl: 3, type: 'trap' });
  }
  options.cpus.forEach((c, cpu) => {
    const view = m.cpus[cpu]!;
    const t = tasks[cpu]!;
    const user = c.program.kind.startsWith('user');
    const entryPoint = symbol(programEntry(c.program));
    const userStackTop = layout.userStack + BigInt((cpu + 1) * layout.userStackStride);
    const extra = c.program.kind === 'user-stack-pointer' ? c.program.rsp : 0n;
    if (arch === 'x86_64') {
      const ist = layout.ist + BigInt(cpu * layout.istStride);
      // The TSS lives in the per-CPU area (init_tss), so the #DB/#BP entries can move IST 4 as 3.3 does.
      view.setTss({ base: percpuBase(cpu) + BigInt(TSS_PERCPU_OFFSET), sp0: t.stackTop, ist: { 2: ist + 0x9000n, 3: nmiStackTop(cpu), 4: debugStackTop(cpu) } });
      view.gsBase = percpuBase(cpu);
      view.kernelGsBase = 0n;
      view.setReg('r12', entryPoint);
      view.setReg('r13', user ? userStackTop : t.stackTop);
      view.setReg('r14', user ? 3n : 0n);
      view.setReg('r15', extra);
      m.start(cpu, { rip: 'cpu_startup', rsp: t.stackTop, space: spaces[cpu]! });
    } else {
      view.setTss({ sp0: t.stackTop });
      view.fsBase = percpuBase(cpu);
      view.setReg('esi', extra);
      m.start(cpu, { rip: entryPoint, rsp: user ? userStackTop : t.stackTop, cpl: user ? 3 : 0, space: spaces[cpu]! });
    }
  });

  const symbols = new SymbolTable([...image.symbols, ...extraSymbols]);
  return {
    machine: m,
    image,
    entry,
    symbols,
    tasks,
    cpuCount: ncpu,
    symbol,
    percpuBase,
    readPercpu: (cpu, f) => m.read(pcAddr(cpu, f), w),
    writePercpu: (cpu, f, v) => {
      word(pcAddr(cpu, f), v);
    },
    nmiStackTop,
    debugStackTop,
    perfBuffer: (cpu) => buffers[cpu]!,
    raisePmuNmi(cpu, source) {
      const a = pcAddr(cpu, 'pmuStatus');
      word(a, m.read(a, w) | BigInt(source === 'watchdog' ? PMU.watchdog : PMU.sampler));
      m.injectNmi(cpu);
    },
    registerNmiHandler(type, handler) {
      nmiHandlers[type].push(typeof handler === 'bigint' ? handler : symbol(handler));
      writeNmiTables();
    },
    registerInt3Handler(handler) {
      int3Handlers.push(typeof handler === 'bigint' ? handler : symbol(handler));
      writeNmiTables();
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

/**
 * Builds a sleeping task's call chain near the top of its stack: frames of
 * [saved frame pointer, return address] (a return address points into kernel text).
 * A bad chain's second frame pointer points at unmapped memory.
 */
function writeFrameChain(m: Machine, image: KernelImage, stackTop: bigint, bad: boolean): bigint {
  const w = BigInt(image.isa.w);
  const rets = ['kthread_loop', 'kthread_work', 'cpu_startup'].map((s) => (image.symbols.get(s) ?? image.layout.text) + 2n);
  const frames = [stackTop - 0x100n, stackTop - 0xc0n, stackTop - 0x80n];
  frames.forEach((fp, k) => {
    const next = k + 1 < frames.length ? frames[k + 1]! : 0n;
    const link = bad && k === 1 ? image.layout.unmapped : next;
    m.write(fp, Number(w) as 4 | 8, link);
    m.write(fp + w, Number(w) as 4 | 8, rets[k]!);
  });
  return frames[0]!;
}

export { NMI_TYPE };
