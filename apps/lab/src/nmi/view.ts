import { disassemble } from '@kernsim/cpu-core';
import type { AddressSpace, Cpu, RegName } from '@kernsim/cpu-core';
import type { Kernel } from '@kernsim/kernel';
import type { LabEvent, ShownRun } from './shown-run.js';
import { hexOf, stackView } from './stack-view.js';
import type { StackView } from './stack-view.js';

export type { StackSlot, StackView } from './stack-view.js';
export { hexOf };

/** Everything the NMI lab draws, read from the machine at one step (plain data: it crosses to the page). */
export interface MachineView {
  readonly step: number;
  readonly steps: number;
  /** CPU that executes the current step (where "Inject NMI here" lands), or undefined at the end. */
  readonly nextCpu: number | undefined;
  /** What the current step does ("CPU 1 runs next"), or undefined at the end. */
  readonly next: string | undefined;
  readonly cpus: readonly CpuView[];
  readonly stacks: readonly StackView[];
  readonly console: string;
  /** The run's events so far, the latest last. */
  readonly recent: readonly LabEvent[];
  /** The instructions the last few steps executed, oldest first. */
  readonly executed: readonly ExecutedLine[];
}

export interface ExecutedLine {
  readonly step: number;
  readonly cpu: number;
  readonly address: string;
  readonly where: string;
  readonly text: string;
}

export interface CpuView {
  readonly id: number;
  readonly status: string;
  readonly rip: string;
  readonly where: string;
  readonly cpl: number;
  readonly nmiBlocked: boolean;
  readonly nmiPending: boolean;
  readonly interrupts: boolean;
  readonly regs: readonly { readonly name: string; readonly value: string }[];
  readonly code: readonly CodeLine[];
}

export interface CodeLine {
  readonly address: string;
  readonly label: string | undefined;
  readonly bytes: string;
  readonly text: string;
  readonly current: boolean;
}

const REGS64: readonly RegName[] = ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];
const REGS32: readonly RegName[] = ['eax', 'ebx', 'ecx', 'edx', 'esi', 'edi', 'ebp', 'esp'];
const EVENTS_SHOWN = 60;

/**
 * Whether the machine at `step` is past the event: the runner notes landmarks and a panic
 * before it runs the step they are seen at, everything else (deliveries, irets, faults, NMIs
 * raised just before the step) once the step has run.
 */
function happenedBy(e: LabEvent, step: number): boolean {
  return e.kind === 'landmark' || e.kind === 'panic' ? e.step <= step : e.step < step;
}

/** Reads the view of the session's machine at the step it is at now. */
export function machineView(session: ShownRun): MachineView {
  const k = session.kernel;
  const step = session.at;
  const events = session.events;
  let end = 0;
  while (end < events.length && happenedBy(events[end]!, step)) end++;
  const width = k.machine.bitness === 64 ? 16 : 8;
  const executed = session.history.map((e) => {
    const c = k.machine.cpus[e.cpu]!;
    return { step: e.step, cpu: e.cpu, address: hexOf(e.rip, width), where: k.symbols.symbolize(e.rip) ?? '', text: decodeAt(k, c, e.rip) };
  });
  return {
    step,
    steps: session.steps,
    nextCpu: session.cpuAt(step),
    next: session.nextAt(step),
    cpus: k.machine.cpus.map((c) => cpuView(k, c)),
    stacks: k.machine.cpus.map((c): StackView => stackView(k, session.stackKind, c.id, session.liveFrames(c.id))),
    console: k.machine.console,
    recent: events.slice(Math.max(0, end - EVENTS_SHOWN), end),
    executed,
  };
}

function cpuView(k: Kernel, c: Cpu): CpuView {
  const width = k.machine.bitness === 64 ? 16 : 8;
  const names = k.machine.bitness === 64 ? REGS64 : REGS32;
  const regs: { name: string; value: string }[] = names.map((name) => ({ name, value: hexOf(c.reg(name), width) }));
  regs.push({ name: k.machine.bitness === 64 ? 'rflags' : 'eflags', value: hexOf(c.rflags, 8) }, { name: 'cr2', value: hexOf(c.cr2, width) });
  return {
    id: c.id,
    status: c.status,
    rip: hexOf(c.rip, width),
    where: k.symbols.symbolize(c.rip) ?? '(no symbol)',
    cpl: c.cpl,
    nmiBlocked: c.nmiBlocked,
    nmiPending: c.nmiPending,
    interrupts: c.interruptsEnabled,
    regs,
    code: codeAround(k, c, width),
  };
}

/** The address space the CPU fetches from now (user code is mapped in its task's space only). */
function spaceOf(k: Kernel, c: Cpu): AddressSpace {
  return k.machine.addressSpaces.find((s) => s.cr3 === c.cr3) ?? k.machine.kernelSpace;
}

/** The one instruction at `rip`, as text. */
function decodeAt(k: Kernel, c: Cpu, rip: bigint): string {
  try {
    const bytes = k.machine.readBytes(rip, 15, spaceOf(k, c));
    return disassemble(bytes, { origin: rip, bitness: k.machine.bitness, symbols: k.symbols })[0]?.text ?? '(undecodable)';
  } catch {
    return '(code not mapped)';
  }
}

/** Disassembly from the start of RIP's function (or RIP itself when far from it), a few lines either side. */
function codeAround(k: Kernel, c: Cpu, width: number): CodeLine[] {
  const m = k.machine;
  const rip = c.rip;
  const sym = k.symbols.symbolize(rip);
  const match = sym === undefined ? null : /\+0x([0-9a-f]+)$/.exec(sym);
  const offset = match ? BigInt(`0x${match[1] ?? '0'}`) : 0n;
  const start = offset > 0n && offset <= 160n ? rip - offset : rip;
  const space = spaceOf(k, c);
  let bytes: Uint8Array;
  try {
    bytes = m.readBytes(start, Number(rip - start) + 64, space);
  } catch {
    return [{ address: hexOf(rip, width), label: undefined, bytes: '', text: '(code not mapped)', current: true }];
  }
  const lines = disassemble(bytes, { origin: start, bitness: m.bitness, symbols: k.symbols });
  const at = lines.findIndex((d) => d.address === rip);
  const from = Math.max(0, at - 6);
  return lines.slice(from, (at < 0 ? 0 : at) + 9).map((d) => {
    const s = k.symbols.symbolize(d.address);
    return { address: hexOf(d.address, width), label: s !== undefined && !s.includes('+') ? s : undefined, bytes: d.bytes, text: d.text, current: d.address === rip };
  });
}
