import { Assembler } from '../asm/assembler.js';
import { createMachine } from '../machine/machine.js';
import type { Machine, MachineConfig } from '../machine/machine.js';

/** Addresses of the small kernel layout tests and benchmarks use. */
export const LAYOUT64 = {
  text: 0xffffffff81000000n,
  data: 0xffffffff82000000n,
  stacks: 0xffffffff83000000n,
  user: 0x400000n,
  userStack: 0x7ffff000n,
} as const;

export const LAYOUT32 = {
  text: 0xe1000000n,
  data: 0xe2000000n,
  stacks: 0xe3000000n,
  user: 0x08048000n,
  userStack: 0x7ffff000n,
} as const;

export interface Kit {
  readonly m: Machine;
  readonly layout: typeof LAYOUT64 | typeof LAYOUT32;
  /** A fresh assembler at an address in the text area. */
  readonly asm: (offset?: number) => Assembler;
  /** Top of CPU i's kernel stack (16 KiB each; IST stacks follow at +0x100000). */
  readonly stackTop: (cpu: number) => bigint;
}

/** Builds a machine with kernel text, data and per-CPU stacks mapped in the reference table. */
export function kit(config: Partial<MachineConfig> & { arch: MachineConfig['arch'] }): Kit {
  const m = createMachine({ cpus: 1, ...config });
  const layout = config.arch === 'x86_64' ? LAYOUT64 : LAYOUT32;
  m.map(layout.text, 0x20000);
  m.map(layout.data, 0x10000);
  m.map(layout.stacks, 0x4000 * Math.min(m.cpus.length, 64) + 0x100000 + 0x4000 * Math.min(m.cpus.length, 64));
  const bitness = m.bitness;
  return {
    m,
    layout,
    asm: (offset = 0) => new Assembler({ bitness, origin: layout.text + BigInt(offset) }),
    stackTop: (cpu) => layout.stacks + BigInt(0x4000 * (cpu + 1)),
  };
}
