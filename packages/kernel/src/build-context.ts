import type { Assembler } from '@kernsim/cpu-core';
import type { DataArea } from './data-area.js';
import type { Isa } from './isa.js';
import type { Layout } from './layout.js';

/** Byte offsets of the saved registers in `struct pt_regs`, per architecture. */
export interface RegsLayout {
  readonly size: number;
  readonly ip: number;
  readonly cs: number;
  readonly flags: number;
  readonly sp: number;
  readonly ss: number;
  readonly origAx: number;
}

/** 3.3's x86_64 `struct pt_regs`: r15 … rdi, orig_ax, then the hardware frame. */
export const PT_REGS_64 = {
  r15: 0, r14: 8, r13: 16, r12: 24, rbp: 32, rbx: 40, r11: 48, r10: 56, r9: 64, r8: 72,
  rax: 80, rcx: 88, rdx: 96, rsi: 104, rdi: 112, origAx: 120, ip: 128, cs: 136, flags: 144, sp: 152, ss: 160, size: 168,
} as const;

/** 3.3's i386 `struct pt_regs` (SAVE_ALL order); `sp`/`ss` exist only after a privilege change. */
export const PT_REGS_32 = {
  ebx: 0, ecx: 4, edx: 8, esi: 12, edi: 16, ebp: 20, eax: 24, ds: 28, es: 32, fs: 36, gs: 40,
  origAx: 44, ip: 48, cs: 52, flags: 56, sp: 60, ss: 64, size: 68,
} as const;

/** Everything a code emitter needs: where data lives and which assembler to write into. */
export interface BuildContext {
  readonly isa: Isa;
  readonly layout: Layout;
  readonly data: DataArea;
  readonly a: Assembler;
  readonly regs: RegsLayout;
  /** Address of a data object (shorthand for `data.address`). */
  d(name: string): bigint;
}
