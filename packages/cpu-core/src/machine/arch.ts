/** The two machine flavours and the architectural constants the model depends on. */
export type Arch = 'x86_64' | 'i386';

export interface ArchInfo {
  readonly arch: Arch;
  readonly bitness: 32 | 64;
  /** Bytes per pgd entry, number of entries, and the shift that selects an entry. */
  readonly pgdEntrySize: 4 | 8;
  readonly pgdEntries: number;
  /** First pgd index of the kernel half (copied into every new address space). */
  readonly kernelPgdStart: number;
  /** Virtual address where all physical memory is mapped (Linux's PAGE_OFFSET). */
  readonly pageOffset: bigint;
  /** Bytes covered by one pgd entry. */
  readonly pgdSpan: bigint;
  readonly kernelCs: number;
  readonly kernelSs: number;
  readonly userCs: number;
  readonly userSs: number;
}

export const X86_64: ArchInfo = {
  arch: 'x86_64',
  bitness: 64,
  pgdEntrySize: 8,
  pgdEntries: 512,
  kernelPgdStart: 256,
  pageOffset: 0xffff880000000000n,
  pgdSpan: 1n << 39n,
  kernelCs: 0x10,
  kernelSs: 0x18,
  userCs: 0x33,
  userSs: 0x2b,
};

export const I386: ArchInfo = {
  arch: 'i386',
  bitness: 32,
  pgdEntrySize: 4,
  pgdEntries: 1024,
  kernelPgdStart: 768,
  pageOffset: 0xc0000000n,
  pgdSpan: 1n << 22n,
  kernelCs: 0x60,
  kernelSs: 0x68,
  userCs: 0x73,
  userSs: 0x7b,
};

/** Well-known vectors. */
export const VECTOR = { DE: 0, DB: 1, NMI: 2, BP: 3, UD: 6, DF: 8, GP: 13, PF: 14 } as const;

/** Indices of the general registers in `CpuState.lo`/`hi` (the x86 encoding order). */
export const R = { RAX: 0, RCX: 1, RDX: 2, RBX: 3, RSP: 4, RBP: 5, RSI: 6, RDI: 7 } as const;

/** MSR numbers the machine implements. */
export const MSR = {
  TSC: 0x10,
  X2APIC_ID: 0x802,
  X2APIC_EOI: 0x80b,
  X2APIC_ICR: 0x830,
  EFER: 0xc0000080,
  STAR: 0xc0000081,
  LSTAR: 0xc0000082,
  FMASK: 0xc0000084,
  FS_BASE: 0xc0000100,
  GS_BASE: 0xc0000101,
  KERNEL_GS_BASE: 0xc0000102,
} as const;

/** I/O ports of the devices. */
export const PORT = {
  SERIAL: 0x3f8,
  /** Write the destination APIC id, then the ICR low word (xAPIC layout) to send. */
  APIC_ICR_DEST: 0xfe0,
  APIC_ICR: 0xfe4,
  APIC_EOI: 0xfe8,
  /** Read: this CPU's APIC id. */
  APIC_ID: 0xfec,
} as const;

export const toLoHi = (v: bigint): [number, number] => [Number(v & 0xffffffffn), Number((v >> 32n) & 0xffffffffn)];
export const fromLoHi = (lo: number, hi: number): bigint => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
