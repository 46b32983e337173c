import { byte, dword, qword, reg } from '@kernsim/cpu-core';
import type { Arch, Mem, MemBuilder, Reg } from '@kernsim/cpu-core';

/**
 * The registers and memory operand sizes of one architecture under neutral names, so
 * the routines both kernels share (printk, show_state, the NMI handler chain, the NMI
 * sources) are written once and assembled for 64- or 32-bit mode.
 *
 * The kernel's own calling convention (documented in the README): arguments in `di`
 * and `si`, result in `ax`, every other register preserved by the callee.
 */
export interface Isa {
  readonly arch: Arch;
  readonly bits: 32 | 64;
  /** Bytes per machine word (and per stack slot). */
  readonly w: 4 | 8;
  readonly ax: Reg;
  readonly bx: Reg;
  readonly cx: Reg;
  readonly dx: Reg;
  readonly si: Reg;
  readonly di: Reg;
  readonly sp: Reg;
  readonly bp: Reg;
  /** Low byte of ax, 16-bit dx (port numbers), and the 32-bit forms (zero-extending targets, MSR halves). */
  readonly al: Reg;
  readonly dx16: Reg;
  readonly eax: Reg;
  readonly ecx: Reg;
  readonly edx: Reg;
  readonly esi: Reg;
  readonly edi: Reg;
  /** An absolute address as a signed displacement/immediate of this mode (sign-extended on x86_64). */
  abs(address: bigint): bigint;
  /** Memory operands of machine-word, byte and 32-bit size. */
  readonly word: MemBuilder;
  readonly byte: MemBuilder;
  readonly dword: MemBuilder;
  /** A per-CPU variable: `%gs:off` on x86_64, `%fs:off` on i386. */
  percpu(offset: number): Mem;
}

const X86_64: Isa = {
  arch: 'x86_64',
  bits: 64,
  w: 8,
  ax: reg.rax,
  bx: reg.rbx,
  cx: reg.rcx,
  dx: reg.rdx,
  si: reg.rsi,
  di: reg.rdi,
  sp: reg.rsp,
  bp: reg.rbp,
  al: reg.al,
  dx16: reg.dx,
  eax: reg.eax,
  ecx: reg.ecx,
  edx: reg.edx,
  esi: reg.esi,
  edi: reg.edi,
  abs: (address) => BigInt.asIntN(64, address),
  word: qword,
  byte,
  dword,
  percpu: (offset) => qword.gs(offset),
};

const I386: Isa = {
  arch: 'i386',
  bits: 32,
  w: 4,
  ax: reg.eax,
  bx: reg.ebx,
  cx: reg.ecx,
  dx: reg.edx,
  si: reg.esi,
  di: reg.edi,
  sp: reg.esp,
  bp: reg.ebp,
  al: reg.al,
  dx16: reg.dx,
  eax: reg.eax,
  ecx: reg.ecx,
  edx: reg.edx,
  esi: reg.esi,
  edi: reg.edi,
  abs: (address) => BigInt.asIntN(32, address),
  word: dword,
  byte,
  dword,
  percpu: (offset) => dword.fs(offset),
};

export function isaOf(arch: Arch): Isa {
  return arch === 'x86_64' ? X86_64 : I386;
}
