import { Code, Mnemonic, OpKind, Register } from 'iced-x86';
import type { Instruction } from 'iced-x86';
import { R } from '../arch.js';
import { rd, translate } from '../bus.js';
import type { CpuState } from '../cpu.js';
import { fastPushPop } from '../fast.js';
import { isImm, operand } from '../operands.js';
import { pop, push } from '../stack.js';
import type { Ctx, Exec, IsaEntry } from './types.js';
import { need, sizeOf } from './types.js';

const isFsGs = (instr: Instruction): boolean => instr.op0Kind === OpKind.Register && (instr.op0Register === Register.FS || instr.op0Register === Register.GS);

/** Bytes a push of this form moves the stack by: the operand size of the encoding. */
function pushSize(instr: Instruction, x: Ctx): number {
  if (!isImm(instr.op0Kind)) return sizeOf(instr, 0);
  if (instr.code === Code.Pushw_imm8 || instr.code === Code.Push_imm16) return 2;
  return x.stackSize;
}

function buildPush(instr: Instruction, x: Ctx): Exec {
  const { nl, nh, stackSize, is64 } = x;
  if (isFsGs(instr)) {
    const gs = instr.op0Register === Register.GS;
    return (c) => {
      push(c, stackSize, gs ? c.gsSel : c.fsSel, 0);
      c.ipLo = nl;
      c.ipHi = nh;
    };
  }
  const fast = fastPushPop(instr, true, stackSize, is64, nl, nh);
  if (fast) return fast;
  const immSx = isImm(instr.op0Kind);
  const sz = pushSize(instr, x);
  const s = need(operand(instr, 0, sz, is64), 'push operand');
  const imm64 = instr.op0Kind === OpKind.Immediate64;
  return (c) => {
    let v = s.get(c);
    let vh = c.vh;
    if (immSx && sz === 8 && vh === 0 && v >= 0x80000000 && !imm64) vh = 0xffffffff;
    if (sz === 4) vh = 0;
    if (sz === 2) v &= 0xffff;
    push(c, sz, v, vh);
    c.ipLo = nl;
    c.ipHi = nh;
  };
}

function buildPop(instr: Instruction, x: Ctx): Exec {
  const { nl, nh, stackSize, is64 } = x;
  if (isFsGs(instr)) {
    const gs = instr.op0Register === Register.GS;
    return (c) => {
      const v = pop(c, stackSize) & 0xffff;
      if (gs) c.gsSel = v;
      else c.fsSel = v;
      c.ipLo = nl;
      c.ipHi = nh;
    };
  }
  const fast = fastPushPop(instr, false, stackSize, is64, nl, nh);
  if (fast) return fast;
  const sz = sizeOf(instr, 0);
  const d = need(operand(instr, 0, sz, is64), 'pop destination');
  return (c) => {
    // A faulting store leaves RSP as it was before the pop.
    const saveLo = c.lo[R.RSP]!;
    const saveHi = c.hi[R.RSP]!;
    const v = pop(c, sz);
    const vh = c.vh;
    try {
      d.set(c, v, vh);
    } catch (e) {
      c.lo[R.RSP] = saveLo;
      c.hi[R.RSP] = saveHi;
      throw e;
    }
    c.ipLo = nl;
    c.ipHi = nh;
  };
}

function buildPushf(instr: Instruction, { nl, nh, stackSize }: Ctx): Exec {
  const sz = instr.code === Code.Pushfw ? 2 : stackSize;
  return (c) => {
    push(c, sz, c.rflags() & 0xfcffff, 0);
    c.ipLo = nl;
    c.ipHi = nh;
  };
}

function buildPopf(instr: Instruction, { nl, nh, stackSize }: Ctx): Exec {
  const sz = instr.code === Code.Popfw ? 2 : stackSize;
  return (c) => {
    const v = pop(c, sz);
    // CPL 0 loads IF and IOPL too; at CPL 3 (IOPL 0) popf silently keeps them. RF and VM
    // are cleared; a 16-bit popf leaves the upper half alone.
    const keep = (c.cpl === 0 ? 0 : 0x3200) | (sz === 2 ? 0xffff0000 : 0);
    c.setRflags((c.rflags() & keep) | (v & 0x247fd5 & ~keep));
    c.ipLo = nl;
    c.ipHi = nh;
  };
}

function buildLeave(instr: Instruction, { nl, nh, stackSize, is64 }: Ctx): Exec {
  const size = instr.code === Code.Leavew ? 2 : stackSize;
  // rsp = rbp, then pop rbp; read first so a fault leaves both registers as they were.
  return (c) => {
    const lo = c.lo[R.RBP]!;
    const hi = is64 ? c.hi[R.RBP]! : 0;
    const v = rd(c, lo, hi, size);
    const vh = size === 8 ? c.vh : 0;
    const n = lo + size;
    c.lo[R.RSP] = n >>> 0;
    c.hi[R.RSP] = is64 && n > 0xffffffff ? (hi + 1) >>> 0 : hi;
    if (size === 2) c.lo[R.RBP] = (lo & 0xffff0000) | (v & 0xffff);
    else {
      c.lo[R.RBP] = v;
      c.hi[R.RBP] = vh;
    }
    c.ipLo = nl;
    c.ipHi = nh;
  };
}

/** enter: push rBP, copy `level - 1` outer frame pointers, push the new frame pointer, reserve `alloc` bytes. */
function buildEnter(instr: Instruction, { nl, nh, stackSize, is64 }: Ctx): Exec {
  const alloc = instr.immediate16;
  const level = instr.immediate8_2nd & 31;
  const size = instr.code === Code.Enterw_imm16_imm8 ? 2 : stackSize;
  return (c) => {
    const saved = [c.lo[R.RSP]!, c.hi[R.RSP]!, c.lo[R.RBP]!, c.hi[R.RBP]!] as const;
    try {
      enterFrame(c, size, level, alloc, is64);
    } catch (e) {
      [c.lo[R.RSP], c.hi[R.RSP], c.lo[R.RBP], c.hi[R.RBP]] = saved;
      throw e;
    }
    c.ipLo = nl;
    c.ipHi = nh;
  };
}

function enterFrame(c: CpuState, size: number, level: number, alloc: number, is64: boolean): void {
  push(c, size, c.lo[R.RBP]!, is64 ? c.hi[R.RBP]! : 0);
  const frameLo = c.lo[R.RSP]!;
  const frameHi = c.hi[R.RSP]!;
  let bpLo = c.lo[R.RBP]!;
  let bpHi = is64 ? c.hi[R.RBP]! : 0;
  for (let i = 1; i < level; i++) {
    const n = bpLo - size;
    bpLo = n >>> 0;
    if (n < 0 && is64) bpHi = (bpHi - 1) >>> 0;
    push(c, size, rd(c, bpLo, bpHi, size), size === 8 ? c.vh : 0);
  }
  if (level > 0) push(c, size, frameLo, frameHi);
  const n = c.lo[R.RSP]! - alloc;
  const spLo = n >>> 0;
  const spHi = n < 0 && is64 ? (c.hi[R.RSP]! - 1) >>> 0 : c.hi[R.RSP]!;
  // The reference CPU checks that the bottom of the new frame is writable (#PF otherwise).
  translate(c, spLo, spHi, 1);
  if (size === 2) c.lo[R.RBP] = (c.lo[R.RBP]! & 0xffff0000) | (frameLo & 0xffff);
  else {
    c.lo[R.RBP] = frameLo;
    c.hi[R.RBP] = frameHi;
  }
  c.lo[R.RSP] = spLo;
  c.hi[R.RSP] = spHi;
}

export const STACK_ENTRIES: readonly IsaEntry[] = [
  { names: ['push'], family: 'stack', mnemonics: [Mnemonic.Push], build: buildPush },
  { names: ['pop'], family: 'stack', mnemonics: [Mnemonic.Pop], build: buildPop },
  { names: ['pushf'], family: 'stack', mnemonics: [Mnemonic.Pushf, Mnemonic.Pushfd, Mnemonic.Pushfq], build: buildPushf },
  { names: ['popf'], family: 'stack', mnemonics: [Mnemonic.Popf, Mnemonic.Popfd, Mnemonic.Popfq], build: buildPopf },
  { names: ['leave'], family: 'stack', mnemonics: [Mnemonic.Leave], build: buildLeave },
  { names: ['enter'], family: 'stack', mnemonics: [Mnemonic.Enter], build: buildEnter },
];
