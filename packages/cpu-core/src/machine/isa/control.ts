import { Code, Mnemonic, OpKind } from 'iced-x86';
import type { Instruction } from 'iced-x86';
import { R, VECTOR } from '../arch.js';
import { fault } from '../bus.js';
import { callSource, jmpSource, retSource } from '../block-source.js';
import { fastJcc } from '../fast.js';
import { iret } from '../interrupts.js';
import { operand } from '../operands.js';
import { pop, push } from '../stack.js';
import type { Ctx, Exec, IsaEntry } from './types.js';
import { need, unsupported } from './types.js';

/** Condition-code mnemonics in the order of the x86 `cc` field (o no b ae e ne be a s ns p np l ge le g). */
export const JCC = [
  Mnemonic.Jo, Mnemonic.Jno, Mnemonic.Jb, Mnemonic.Jae, Mnemonic.Je, Mnemonic.Jne, Mnemonic.Jbe, Mnemonic.Ja,
  Mnemonic.Js, Mnemonic.Jns, Mnemonic.Jp, Mnemonic.Jnp, Mnemonic.Jl, Mnemonic.Jge, Mnemonic.Jle, Mnemonic.Jg,
];

/** The branch target of a near relative branch, as two halves. */
export function target(instr: Instruction, is64: boolean): [number, number] {
  const t = instr.nearBranchTarget;
  return [Number(t & 0xffffffffn), is64 ? Number((t >> 32n) & 0xffffffffn) : 0];
}

function buildJcc(instr: Instruction, { nl, nh, is64 }: Ctx): Exec {
  const [tl, th] = target(instr, is64);
  return fastJcc(JCC.indexOf(instr.mnemonic), tl, th, nl, nh);
}

const isNear = (k: OpKind): boolean => k === OpKind.NearBranch64 || k === OpKind.NearBranch32 || k === OpKind.NearBranch16;

function buildJmpCall(instr: Instruction, { nl, nh, is64, stackSize }: Ctx): Exec {
  const call = instr.mnemonic === Mnemonic.Call;
  if (isNear(instr.op0Kind)) {
    const [tl, th] = target(instr, is64);
    if (!call) {
      const jmp: Exec = (c) => {
        c.ipLo = tl;
        c.ipHi = th;
      };
      return jmpSource(jmp, tl, th, nl, nh);
    }
    const callRel: Exec = (c) => {
      push(c, stackSize, nl, nh);
      c.ipLo = tl;
      c.ipHi = th;
    };
    return callSource(callRel, stackSize, is64, tl, th, nl, nh);
  }
  if (instr.isJmpFar || instr.isCallFar || instr.isJmpFarIndirect || instr.isCallFarIndirect) unsupported('far jmp/call');
  const s = need(operand(instr, 0, stackSize, is64), 'indirect branch operand');
  return (c) => {
    const tl = s.get(c);
    const th = is64 ? c.vh : 0;
    if (call) push(c, stackSize, nl, nh);
    c.ipLo = tl;
    c.ipHi = th;
  };
}

function buildRet(instr: Instruction, { is64, stackSize }: Ctx): Exec {
  const extra = instr.opCount > 0 ? instr.immediate16 : 0;
  if (instr.isCallFar || instr.code === Code.Retfd || instr.code === Code.Retfq || instr.code === Code.Retfw) unsupported('far ret');
  const ret: Exec = (c) => {
    const tl = pop(c, stackSize);
    const th = is64 ? c.vh : 0;
    if (extra !== 0) {
      const n = c.lo[R.RSP]! + extra;
      c.lo[R.RSP] = n >>> 0;
      if (n > 0xffffffff && is64) c.hi[R.RSP] = (c.hi[R.RSP]! + 1) >>> 0;
    }
    c.ipLo = tl;
    c.ipHi = th;
  };
  return extra === 0 ? retSource(ret, stackSize, is64) : ret;
}

function buildIret(instr: Instruction): Exec {
  const sz = instr.code === Code.Iretq ? 8 : instr.code === Code.Iretw ? 2 : 4;
  if (sz === 2) unsupported('16-bit iret');
  return (c) => {
    if (c.cpl !== 0) fault(c, VECTOR.GP, 0, 'iret at CPL 3 is not modelled');
    iret(c, sz);
  };
}

function buildInt(instr: Instruction, { nl, nh }: Ctx): Exec {
  const vector = instr.mnemonic === Mnemonic.Int3 ? VECTOR.BP : instr.immediate8;
  // Delivery pushes the next instruction's address; a fault during it reports this one.
  return (c) => {
    c.swLo = nl;
    c.swHi = nh;
    fault(c, vector, -1, 'int');
  };
}

export const CONTROL_ENTRIES: readonly IsaEntry[] = [
  { names: ['jcc'], family: 'control', mnemonics: JCC, build: buildJcc },
  { names: ['jmp', 'call'], family: 'control', mnemonics: [Mnemonic.Jmp, Mnemonic.Call], build: buildJmpCall },
  { names: ['ret'], family: 'control', mnemonics: [Mnemonic.Ret], build: buildRet },
  { names: ['iret', 'iretd', 'iretq'], family: 'control', mnemonics: [Mnemonic.Iret, Mnemonic.Iretd, Mnemonic.Iretq], build: buildIret },
  { names: ['int3', 'int'], family: 'control', mnemonics: [Mnemonic.Int3, Mnemonic.Int], build: buildInt },
];
