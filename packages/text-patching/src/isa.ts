import { byte, dword, qword, reg } from '@kernsim/cpu-core';
import type { MemBuilder, Reg } from '@kernsim/cpu-core';

export type Bits = 32 | 64;

/** The registers the patching code uses, under neutral names, so it assembles for either mode. */
export interface Isa {
  readonly bits: Bits;
  /** Bytes per machine word and per stack slot. */
  readonly w: 4 | 8;
  readonly ax: Reg;
  readonly bx: Reg;
  readonly cx: Reg;
  readonly dx: Reg;
  readonly si: Reg;
  readonly di: Reg;
  readonly sp: Reg;
  readonly bp: Reg;
  readonly eax: Reg;
  readonly ecx: Reg;
  readonly edx: Reg;
  readonly esi: Reg;
  readonly al: Reg;
  readonly word: MemBuilder;
  readonly byte: MemBuilder;
  readonly dword: MemBuilder;
}

const I64: Isa = {
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
  eax: reg.eax,
  ecx: reg.ecx,
  edx: reg.edx,
  esi: reg.esi,
  al: reg.al,
  word: qword,
  byte,
  dword,
};

const I32: Isa = {
  ...I64,
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
  word: dword,
};

export function isaFor(bits: Bits): Isa {
  return bits === 64 ? I64 : I32;
}
