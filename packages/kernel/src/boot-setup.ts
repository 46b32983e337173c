import { decodeOne, VECTOR } from '@kernsim/cpu-core';
import type { AddressSpace, Machine } from '@kernsim/cpu-core';
import type { CpuTask, TaskInfo } from './boot.js';
import { KPROBE, KPROBE_SLOTS } from './code/kprobes.js';
import { NMI_TABLE_SLOTS } from './code/nmi-chain.js';
import type { NmiType } from './code/nmi-chain.js';
import { packWords } from './data-area.js';
import { KernelError } from './errors.js';
import type { KernelImage } from './kernel-image.js';
import { MAX_EXTABLE, NMI_IDT_BYTES } from './kernel-data.js';
import { KERNEL_VECTOR } from './vectors.js';
import { TSS_PERCPU_OFFSET } from './x86_64/arch-x86_64.js';

/** The handler tables boot fills, and the calls that add to the NMI and int3 chains later. */
export interface KernelTables {
  registerNmiHandler(type: NmiType, handler: bigint): void;
  registerInt3Handler(handler: bigint): void;
}

/** Writes the NMI chains, the int3 chain, the exception table and the kprobe table (arming each probe). */
export function writeKernelTables(
  m: Machine,
  image: KernelImage,
  kprobes: readonly string[],
  symbol: (name: string) => bigint,
  extraSymbols: Map<string, bigint>,
): KernelTables {
  const w = image.isa.w;
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
  if (kprobes.length > KPROBE_SLOTS) throw new KernelError('KERNSIM_KERNEL_TABLE_FULL', `at most ${KPROBE_SLOTS} kprobes`);
  const probeEntries: bigint[] = [];
  kprobes.forEach((name, i) => {
    probeEntries.push(...armKprobe(m, image, name, i, symbol, extraSymbols));
  });
  table('kprobe_table', probeEntries, KPROBE_SLOTS * KPROBE.words);
  return {
    registerNmiHandler(type, handler) {
      nmiHandlers[type].push(handler);
      writeNmiTables();
    },
    registerInt3Handler(handler) {
      int3Handlers.push(handler);
      writeNmiTables();
    },
  };
}

/** Copies the probed instruction and a jump back into slot `i`, writes int3 over it; returns its table entry. */
function armKprobe(m: Machine, image: KernelImage, name: string, i: number, symbol: (name: string) => bigint, extraSymbols: Map<string, bigint>): bigint[] {
  const addr = symbol(name);
  const bytes = m.readBytes(addr, 16);
  const insn = decodeOne(bytes, addr, image.isa.bits);
  if (!insn.valid || insn.length < 1) throw new KernelError('KERNSIM_KERNEL_BAD_PROBE', `cannot decode the instruction at ${name}`);
  const slot = image.layout.kprobeSlots + BigInt(i * 32);
  const back = addr + BigInt(insn.length);
  const jmp = new Uint8Array(5);
  const rel = BigInt.asUintN(32, back - (slot + BigInt(insn.length) + 5n));
  jmp[0] = 0xe9;
  for (let k = 0; k < 4; k++) jmp[k + 1] = Number((rel >> BigInt(8 * k)) & 0xffn);
  m.loadCode({ origin: slot, bytes: Uint8Array.from([...bytes.subarray(0, insn.length), ...jmp]), symbols: new Map([[`kprobe_insn_slot_${name}`, slot]]) });
  extraSymbols.set(`kprobe_insn_slot_${name}`, slot);
  m.writeBytes(addr, [0xcc]);
  return [addr, symbol('kprobe_default_pre'), slot];
}

/** The IDT (machine-wide, as idt_table); x86_64 also gets trap_init's nmi_idt_table and both lidt descriptors. */
export function installIdt(m: Machine, image: KernelImage, symbol: (name: string) => bigint): void {
  if (image.arch !== 'x86_64') {
    m.setGate(VECTOR.DB, { handler: 'debug' });
    m.setGate(VECTOR.NMI, { handler: 'nmi' });
    m.setGate(VECTOR.BP, { handler: 'int3', dpl: 3 });
    m.setGate(VECTOR.UD, { handler: 'invalid_op' });
    m.setGate(VECTOR.DF, { handler: 'double_fault' });
    m.setGate(VECTOR.GP, { handler: 'general_protection' });
    m.setGate(VECTOR.PF, { handler: 'page_fault' });
    m.setGate(KERNEL_VECTOR.SYSCALL, { handler: 'system_call', dpl: 3, type: 'trap' });
    return;
  }
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
}

/** Where each CPU's per-CPU area and stacks are. */
export interface CpuPlaces {
  percpuBase(cpu: number): bigint;
  nmiStackTop(cpu: number): bigint;
  debugStackTop(cpu: number): bigint;
}

/** Starts each CPU in its first task: x86_64 through `cpu_startup` (TSS in the per-CPU area, GS base), i386 directly. */
export function startCpus(
  m: Machine,
  image: KernelImage,
  cpus: readonly CpuTask[],
  tasks: readonly TaskInfo[],
  spaces: readonly AddressSpace[],
  places: CpuPlaces,
  entryOf: (cpu: CpuTask) => bigint,
): void {
  const { layout } = image;
  cpus.forEach((c, cpu) => {
    const view = m.cpus[cpu]!;
    const t = tasks[cpu]!;
    const user = c.program.kind.startsWith('user');
    const entryPoint = entryOf(c);
    const userStackTop = layout.userStack + BigInt((cpu + 1) * layout.userStackStride);
    const extra = c.program.kind === 'user-stack-pointer' ? c.program.rsp : 0n;
    if (image.arch === 'x86_64') {
      const ist = layout.ist + BigInt(cpu * layout.istStride);
      // The TSS lives in the per-CPU area (init_tss), so the #DB/#BP entries can move IST 4 as 3.3 does.
      view.setTss({ base: places.percpuBase(cpu) + BigInt(TSS_PERCPU_OFFSET), sp0: t.stackTop, ist: { 2: ist + 0x9000n, 3: places.nmiStackTop(cpu), 4: places.debugStackTop(cpu) } });
      view.gsBase = places.percpuBase(cpu);
      view.kernelGsBase = 0n;
      view.setReg('r12', entryPoint);
      view.setReg('r13', user ? userStackTop : t.stackTop);
      view.setReg('r14', user ? 3n : 0n);
      view.setReg('r15', extra);
      m.start(cpu, { rip: 'cpu_startup', rsp: t.stackTop, space: spaces[cpu]! });
    } else {
      view.setTss({ sp0: t.stackTop });
      view.fsBase = places.percpuBase(cpu);
      view.setReg('esi', extra);
      m.start(cpu, { rip: entryPoint, rsp: user ? userStackTop : t.stackTop, cpl: user ? 3 : 0, space: spaces[cpu]! });
    }
  });
}
