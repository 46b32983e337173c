import { VECTOR } from '@kernsim/cpu-core';
import type { Arch, AssembledCode, Machine } from '@kernsim/cpu-core';
import { KernelError } from '../errors.js';
import { KERNEL_VECTOR } from '../vectors.js';
import { STAT } from './layout.js';
import type { SmpLayout } from './layout.js';

/**
 * The lean SMP kernel as assembled: one CPU-wide data page of control words, per-CPU
 * statistics, a small stack per CPU, and the code that defines `nmi`, `int3`,
 * `general_protection`, `invalid_op`, `call_function_interrupt` and `reschedule_interrupt`. Small enough
 * per CPU to boot 4096 of them; text patching's figures run on it.
 */
export interface SmpImage {
  readonly arch: Arch;
  readonly layout: SmpLayout;
  readonly code: AssembledCode;
  /** Out-of-line kprobe slots and detours, when there are probes. */
  readonly slots: AssembledCode | undefined;
  readonly symbols: ReadonlyMap<string, bigint>;
}

/** Memory a machine of `cpus` CPUs needs for the lean SMP kernel. */
export function smpMemoryMiB(layout: SmpLayout, cpus: number): number {
  return Math.max(64, Math.ceil((cpus * layout.stackSize) / 1048576) + 32);
}

/** Maps the image's memory, loads its code and installs its gates. */
export function loadSmpKernel(m: Machine, image: SmpImage, cpus: number): void {
  const { layout } = image;
  const symbol = (name: string): bigint => {
    const at = image.symbols.get(name);
    if (at === undefined) throw new KernelError('KERNSIM_KERNEL_UNKNOWN_SYMBOL', `the lean SMP kernel image has no ${name}`);
    return at;
  };
  m.map(layout.text, layout.textSize);
  m.map(layout.data, layout.dataSize);
  m.map(layout.table, 0x10000);
  m.map(layout.kprobeTable, 0x4000);
  m.map(layout.work, Math.max(4096, cpus * STAT.size));
  m.map(layout.stacks, cpus * layout.stackSize);
  m.loadCode(image.code);
  if (image.slots) {
    m.map(layout.slots, Math.max(4096, image.slots.bytes.length));
    m.loadCode(image.slots);
  }
  m.addSymbols(image.symbols);
  m.setGate(VECTOR.NMI, { handler: symbol('nmi') });
  m.setGate(VECTOR.BP, { handler: symbol('int3') });
  m.setGate(VECTOR.GP, { handler: symbol('general_protection') });
  m.setGate(VECTOR.UD, { handler: symbol('invalid_op') });
  if (image.symbols.has('debug')) m.setGate(VECTOR.DB, { handler: symbol('debug') });
  m.setGate(KERNEL_VECTOR.CALL_FUNCTION, { handler: symbol('call_function_interrupt') });
  m.setGate(KERNEL_VECTOR.RESCHEDULE, { handler: symbol('reschedule_interrupt') });
}
