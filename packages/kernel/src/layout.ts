import type { Arch } from '@kernsim/cpu-core';
import { KernelError } from './errors.js';

/**
 * Where the kernel puts things in the simulated address space. x86_64 keeps every
 * kernel object in the top 2 GiB (like the kernel image, `__START_KERNEL_map`) so an
 * address fits a sign-extended 32-bit immediate, as `movq $repeat_nmi, %rdx` needs.
 */
export interface Layout {
  readonly text: bigint;
  readonly textSize: number;
  readonly data: bigint;
  readonly dataSize: number;
  /** Per-CPU area of CPU n at `percpu + n * percpuStride`. */
  readonly percpu: bigint;
  readonly percpuStride: number;
  /** Exception stacks of CPU n at `ist + n * istStride` (x86_64; i386 uses the NMI slot only for nothing). */
  readonly ist: bigint;
  readonly istStride: number;
  /** Offsets inside a CPU's exception-stack block: [bottom, top) of each stack. */
  readonly nmiStack: readonly [number, number];
  readonly debugStack: readonly [number, number];
  /** Task n's kernel stack at `stacks + n * stackStride`, `threadSize` bytes, a hole above it. */
  readonly stacks: bigint;
  readonly stackStride: number;
  readonly threadSize: number;
  /** Start of the vmalloc area: mapped in the reference table only until first touch. */
  readonly vmalloc: bigint;
  /** An address that is never mapped: bad frame pointers point here. */
  readonly unmapped: bigint;
  /** User code and user stacks. */
  readonly userText: bigint;
  readonly userStack: bigint;
  readonly userStackStride: number;
  /** Out-of-line instruction slots for kprobes. */
  readonly kprobeSlots: bigint;
  /** Free, mapped room for other packages' code and data (64 KiB each), in every task's table. */
  readonly extraText: bigint;
  readonly extraData: bigint;
}

const X86_64: Layout = {
  text: 0xffffffff81000000n,
  textSize: 0x20000,
  data: 0xffffffff81400000n,
  dataSize: 0x10000,
  percpu: 0xffffffff81800000n,
  percpuStride: 0x1000,
  ist: 0xffffffff81c00000n,
  istStride: 0x10000,
  nmiStack: [0x1000, 0x2000],
  debugStack: [0x4000, 0x6000],
  stacks: 0xffffffff82000000n,
  stackStride: 0x4000,
  threadSize: 0x2000,
  vmalloc: 0xffffc90000000000n,
  unmapped: 0xffffffff8f000000n,
  userText: 0x400000n,
  userStack: 0x600000n,
  userStackStride: 0x2000,
  kprobeSlots: 0xffffffff81300000n,
  extraText: 0xffffffff81080000n,
  extraData: 0xffffffff81480000n,
};

const I386: Layout = {
  // Above the direct map of physical memory (PAGE_OFFSET 0xc0000000 plus 256 MiB).
  text: 0xe1000000n,
  textSize: 0x20000,
  data: 0xe1400000n,
  dataSize: 0x10000,
  percpu: 0xe1800000n,
  percpuStride: 0x1000,
  ist: 0xe1c00000n,
  istStride: 0x10000,
  nmiStack: [0x1000, 0x2000],
  debugStack: [0x4000, 0x6000],
  stacks: 0xe2000000n,
  stackStride: 0x4000,
  threadSize: 0x2000,
  vmalloc: 0xf8000000n,
  unmapped: 0xef000000n,
  userText: 0x400000n,
  userStack: 0x600000n,
  userStackStride: 0x2000,
  kprobeSlots: 0xe1300000n,
  extraText: 0xe1080000n,
  extraData: 0xe1480000n,
};

const LAYOUTS: Partial<Record<string, Layout>> = { x86_64: X86_64, i386: I386 };

export function layoutOf(arch: Arch): Layout {
  const layout = LAYOUTS[arch];
  // From JavaScript any other string used to get the i386 layout.
  if (layout === undefined) throw new KernelError('KERNSIM_KERNEL_BAD_OPTIONS', `arch must be x86_64 or i386, got ${arch}`);
  return layout;
}
