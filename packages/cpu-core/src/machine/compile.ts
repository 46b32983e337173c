import { Code, Mnemonic, OpKind, Register } from 'iced-x86';
import type { Instruction } from 'iced-x86';
import { ADC, ADD, alu, AND, CMP, MASK, OR, SAR, SBB, shift, SHL, SHR, ROL, ROR, SUB, TEST, XOR } from './alu.js';
import { fault, rd, wr } from './bus.js';
import type { CpuState } from './cpu.js';
import { FL_DF, FL_IF } from './cpu.js';
import { cpuid, inPort, outPort, rdmsr, wrmsr, movToCr, movFromCr, halt } from './system.js';
import { iret, syscall, sysret } from './interrupts.js';
import { lidt, sidt } from './idt.js';
import { fastAlu, fastJcc, fastMov, fastMovMem, fastPushPop } from './fast.js';
import type { Op } from './op.js';
import { eaFn, immLoc, isImm, memSize, operand, regInfo, regLoc } from './operands.js';
import type { Loc } from './operands.js';
import { pop, push } from './stack.js';

type Exec = (c: CpuState) => void;

const ALU_OPS = new Map<Mnemonic, number>([
  [Mnemonic.Add, ADD],
  [Mnemonic.Or, OR],
  [Mnemonic.Adc, ADC],
  [Mnemonic.Sbb, SBB],
  [Mnemonic.And, AND],
  [Mnemonic.Sub, SUB],
  [Mnemonic.Xor, XOR],
  [Mnemonic.Cmp, CMP],
  [Mnemonic.Test, TEST],
]);
const SHIFT_OPS = new Map<Mnemonic, number>([
  [Mnemonic.Shl, SHL],
  [Mnemonic.Sal, SHL],
  [Mnemonic.Shr, SHR],
  [Mnemonic.Sar, SAR],
  [Mnemonic.Rol, ROL],
  [Mnemonic.Ror, ROR],
]);
const JCC = new Map<Mnemonic, number>([
  [Mnemonic.Jo, 0],
  [Mnemonic.Jno, 1],
  [Mnemonic.Jb, 2],
  [Mnemonic.Jae, 3],
  [Mnemonic.Je, 4],
  [Mnemonic.Jne, 5],
  [Mnemonic.Jbe, 6],
  [Mnemonic.Ja, 7],
  [Mnemonic.Js, 8],
  [Mnemonic.Jns, 9],
  [Mnemonic.Jp, 10],
  [Mnemonic.Jnp, 11],
  [Mnemonic.Jl, 12],
  [Mnemonic.Jge, 13],
  [Mnemonic.Jle, 14],
  [Mnemonic.Jg, 15],
]);
const NOPS = new Set<Mnemonic>([Mnemonic.Nop, Mnemonic.Reservednop, Mnemonic.Prefetchnta, Mnemonic.Prefetcht0, Mnemonic.Prefetcht1, Mnemonic.Prefetcht2, Mnemonic.Prefetchw, Mnemonic.Lfence, Mnemonic.Mfence, Mnemonic.Sfence]);

/** Instructions the machine executes; everything else decodes to #UD. */
export const SUPPORTED_MNEMONICS: readonly string[] = [
  'mov', 'movabs', 'movzx', 'movsx', 'movsxd', 'lea', 'push', 'pop', 'pushf', 'popf', 'add', 'adc', 'sub', 'sbb', 'and', 'or', 'xor', 'cmp', 'test',
  'inc', 'dec', 'neg', 'not', 'shl', 'shr', 'sar', 'rol', 'ror', 'jmp', 'jcc', 'call', 'ret', 'iret', 'iretd', 'iretq', 'int3', 'int', 'ud2',
  'cli', 'sti', 'clc', 'stc', 'cmc', 'std', 'cld', 'hlt', 'pause', 'nop (all forms)', 'cmpxchg', 'xchg', 'xadd', 'cpuid', 'swapgs', 'syscall',
  'sysretq', 'rdmsr', 'wrmsr', 'rdtsc', 'lidt', 'sidt', 'invlpg', 'leave', 'mov to/from cr0/cr2/cr3/cr4', 'mov to/from segment registers', 'rep movs', 'rep stos', 'in', 'out',
];

function ud(reason: string): Exec {
  return (c) => fault(c, 6, -1, reason);
}

function sizeOf(instr: Instruction, n: number): number {
  const k = instr.opKind(n);
  if (k === OpKind.Register) return regInfo(instr.opRegister(n))?.size ?? 0;
  if (k === OpKind.Memory) return memSize(instr) ?? 0;
  return 0;
}

const sext = (v: number, size: number): [number, number] => {
  if (size === 1) v = (v << 24) >> 24;
  else if (size === 2) v = (v << 16) >> 16;
  else v = v | 0;
  return [v >>> 0, v < 0 ? 0xffffffff : 0];
};

/** Compiles one decoded instruction into a closure. Never throws: unsupported forms become #UD. */
export function compile(instr: Instruction, is64: boolean): Op {
  const len = instr.length;
  let exec: Exec | undefined;
  try {
    exec = build(instr, is64);
  } catch {
    exec = undefined;
  }
  return { exec: exec ?? ud(`unsupported instruction (mnemonic ${instr.mnemonic})`), len };
}

function build(instr: Instruction, is64: boolean): Exec | undefined {
  if (instr.isInvalid) return ud('invalid opcode');
  const next = instr.nextIP;
  const nl = Number(next & 0xffffffffn);
  const nh = is64 ? Number((next >> 32n) & 0xffffffffn) : 0;
  const mn = instr.mnemonic;
  const stackSize = is64 ? (instr.code === Code.Pushw_imm8 || instr.code === Code.Push_imm16 ? 2 : 8) : 4;
  if (instr.hasLockPrefix && ![Mnemonic.Cmpxchg, Mnemonic.Xadd, Mnemonic.Xchg, Mnemonic.Add, Mnemonic.Sub, Mnemonic.And, Mnemonic.Or, Mnemonic.Xor, Mnemonic.Inc, Mnemonic.Dec, Mnemonic.Neg, Mnemonic.Not, Mnemonic.Adc, Mnemonic.Sbb].includes(mn)) {
    return ud('lock prefix on an instruction that does not take it');
  }
  if (instr.hasLockPrefix && instr.op0Kind !== OpKind.Memory) return ud('lock prefix without a memory destination');

  const aluOp = ALU_OPS.get(mn);
  if (aluOp !== undefined) {
    const size = sizeOf(instr, 0);
    const d = operand(instr, 0, size, is64);
    const s = operand(instr, 1, size, is64);
    if (!d || !s || size === 0) return undefined;
    const writes = aluOp !== CMP && aluOp !== TEST;
    const fast = fastAlu(instr, aluOp, is64, nl, nh);
    if (fast) return fast;
    if (!d.mem && !s.mem && size >= 4) {
      // Fast path for register/immediate forms.
      const dg = d.get;
      const ds = d.set;
      const sg = s.get;
      return (c) => {
        const a = dg(c);
        const ah = c.vh;
        const b = sg(c);
        const r = alu(c, aluOp, size, a, ah, b, c.vh);
        if (writes) ds(c, r, c.rh);
        c.ipLo = nl;
        c.ipHi = nh;
      };
    }
    return (c) => {
      const a = d.get(c);
      const ah = c.vh;
      const b = s.get(c);
      const r = alu(c, aluOp, size, a, ah, b, c.vh);
      if (writes) d.setAt(c, r, c.rh);
      c.ipLo = nl;
      c.ipHi = nh;
    };
  }
  const shOp = SHIFT_OPS.get(mn);
  if (shOp !== undefined) {
    const size = sizeOf(instr, 0);
    const d = operand(instr, 0, size, is64);
    const k = instr.op1Kind;
    let count: Loc | undefined;
    if (k === OpKind.Register) count = regLoc(instr.op1Register);
    else if (isImm(k)) count = immLoc(instr.immediate(1), 1);
    if (!d || !count) return undefined;
    const cnt = count;
    return (c) => {
      const a = d.get(c);
      const ah = c.vh;
      const n = cnt.get(c) & 0xff;
      const r = shift(c, shOp, size, a, ah, n);
      d.setAt(c, r, c.rh);
      c.ipLo = nl;
      c.ipHi = nh;
    };
  }
  const cc = JCC.get(mn);
  if (cc !== undefined) {
    const t = instr.nearBranchTarget;
    const tl = Number(t & 0xffffffffn);
    const th = is64 ? Number((t >> 32n) & 0xffffffffn) : 0;
    return fastJcc(cc, tl, th, nl, nh);
  }
  if (NOPS.has(mn)) {
    return (c) => {
      c.ipLo = nl;
      c.ipHi = nh;
    };
  }
  switch (mn) {
    case Mnemonic.Mov:
      return buildMov(instr, is64, nl, nh);
    case Mnemonic.Movzx:
    case Mnemonic.Movsx:
    case Mnemonic.Movsxd: {
      const dsz = sizeOf(instr, 0);
      const ssz = sizeOf(instr, 1);
      const d = operand(instr, 0, dsz, is64);
      const s = operand(instr, 1, ssz, is64);
      if (!d || !s) return undefined;
      const signed = mn !== Mnemonic.Movzx;
      return (c) => {
        const v = s.get(c);
        if (signed) {
          const [l, h] = sext(v, ssz);
          d.set(c, (l & MASK[dsz]!) >>> 0, dsz === 8 ? h : 0);
        } else d.set(c, v, 0);
        c.ipLo = nl;
        c.ipHi = nh;
      };
    }
    case Mnemonic.Lea: {
      const d = regLoc(instr.op0Register);
      const ea = eaFn(instr, is64, true);
      if (!d || !ea) return undefined;
      const dsz = d.size;
      return (c) => {
        ea(c);
        d.set(c, dsz === 2 ? c.eaLo & 0xffff : c.eaLo, dsz === 8 ? c.eaHi : 0);
        c.ipLo = nl;
        c.ipHi = nh;
      };
    }
    case Mnemonic.Push: {
      if (instr.op0Kind === OpKind.Register && (instr.op0Register === Register.FS || instr.op0Register === Register.GS)) {
        const gs = instr.op0Register === Register.GS;
        return (c) => {
          push(c, stackSize, gs ? c.gsSel : c.fsSel, 0);
          c.ipLo = nl;
          c.ipHi = nh;
        };
      }
      const fast = fastPushPop(instr, true, stackSize, nl, nh);
      if (fast) return fast;
      const s = operand(instr, 0, isImm(instr.op0Kind) ? stackSize : sizeOf(instr, 0), is64);
      if (!s) return undefined;
      const sz = isImm(instr.op0Kind) ? stackSize : s.size;
      const immSx = isImm(instr.op0Kind);
      return (c) => {
        let v = s.get(c);
        let vh = c.vh;
        if (immSx && sz === 8 && vh === 0 && v >= 0x80000000 && instr.op0Kind !== OpKind.Immediate64) vh = 0xffffffff;
        if (sz === 4) vh = 0;
        if (sz === 2) v &= 0xffff;
        push(c, sz, v, vh);
        c.ipLo = nl;
        c.ipHi = nh;
      };
    }
    case Mnemonic.Pop: {
      if (instr.op0Kind === OpKind.Register && (instr.op0Register === Register.FS || instr.op0Register === Register.GS)) {
        const gs = instr.op0Register === Register.GS;
        return (c) => {
          const v = pop(c, stackSize) & 0xffff;
          if (gs) c.gsSel = v;
          else c.fsSel = v;
          c.ipLo = nl;
          c.ipHi = nh;
        };
      }
      const fast = fastPushPop(instr, false, stackSize, nl, nh);
      if (fast) return fast;
      const sz = sizeOf(instr, 0);
      const d = operand(instr, 0, sz, is64);
      if (!d) return undefined;
      return (c) => {
        const saveLo = c.lo[4]!;
        const saveHi = c.hi[4]!;
        const v = pop(c, sz);
        const vh = c.vh;
        try {
          d.set(c, v, vh);
        } catch (e) {
          c.lo[4] = saveLo;
          c.hi[4] = saveHi;
          throw e;
        }
        c.ipLo = nl;
        c.ipHi = nh;
      };
    }
    case Mnemonic.Pushf:
    case Mnemonic.Pushfd:
    case Mnemonic.Pushfq: {
      const sz = instr.code === Code.Pushfw ? 2 : stackSize;
      return (c) => {
        push(c, sz, c.rflags() & 0xfcffff, 0);
        c.ipLo = nl;
        c.ipHi = nh;
      };
    }
    case Mnemonic.Popf:
    case Mnemonic.Popfd:
    case Mnemonic.Popfq: {
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
    case Mnemonic.Inc:
    case Mnemonic.Dec: {
      const sz = sizeOf(instr, 0);
      const d = operand(instr, 0, sz, is64);
      if (!d) return undefined;
      const op = mn === Mnemonic.Inc ? ADD : SUB;
      return (c) => {
        const a = d.get(c);
        const cf = c.cf;
        const r = alu(c, op, sz, a, c.vh, 1, 0);
        c.cf = cf;
        d.setAt(c, r, c.rh);
        c.ipLo = nl;
        c.ipHi = nh;
      };
    }
    case Mnemonic.Neg:
    case Mnemonic.Not: {
      const sz = sizeOf(instr, 0);
      const d = operand(instr, 0, sz, is64);
      if (!d) return undefined;
      const neg = mn === Mnemonic.Neg;
      return (c) => {
        const a = d.get(c);
        const ah = c.vh;
        if (neg) {
          const r = alu(c, SUB, sz, 0, 0, a, ah);
          d.setAt(c, r, c.rh);
        } else d.setAt(c, (~a & MASK[sz]!) >>> 0, sz === 8 ? ~ah >>> 0 : 0);
        c.ipLo = nl;
        c.ipHi = nh;
      };
    }
    case Mnemonic.Jmp:
    case Mnemonic.Call: {
      const call = mn === Mnemonic.Call;
      if (instr.op0Kind === OpKind.NearBranch64 || instr.op0Kind === OpKind.NearBranch32 || instr.op0Kind === OpKind.NearBranch16) {
        const t = instr.nearBranchTarget;
        const tl = Number(t & 0xffffffffn);
        const th = is64 ? Number((t >> 32n) & 0xffffffffn) : 0;
        if (!call) {
          return (c) => {
            c.ipLo = tl;
            c.ipHi = th;
          };
        }
        return (c) => {
          push(c, stackSize, nl, nh);
          c.ipLo = tl;
          c.ipHi = th;
        };
      }
      if (instr.isJmpFar || instr.isCallFar || instr.isJmpFarIndirect || instr.isCallFarIndirect) return undefined;
      const s = operand(instr, 0, stackSize, is64);
      if (!s) return undefined;
      return (c) => {
        const tl = s.get(c);
        const th = is64 ? c.vh : 0;
        if (call) push(c, stackSize, nl, nh);
        c.ipLo = tl;
        c.ipHi = th;
      };
    }
    case Mnemonic.Ret: {
      const extra = instr.opCount > 0 ? instr.immediate16 : 0;
      if (instr.isCallFar || instr.code === Code.Retfd || instr.code === Code.Retfq || instr.code === Code.Retfw) return undefined;
      return (c) => {
        const tl = pop(c, stackSize);
        const th = is64 ? c.vh : 0;
        if (extra !== 0) {
          const n = c.lo[4]! + extra;
          c.lo[4] = n >>> 0;
          if (n > 0xffffffff && is64) c.hi[4] = (c.hi[4]! + 1) >>> 0;
        }
        c.ipLo = tl;
        c.ipHi = th;
      };
    }
    case Mnemonic.Iret:
    case Mnemonic.Iretd:
    case Mnemonic.Iretq: {
      const sz = instr.code === Code.Iretq ? 8 : instr.code === Code.Iretw ? 2 : 4;
      if (sz === 2) return undefined;
      return (c) => {
        if (c.cpl !== 0) fault(c, 13, 0, 'iret at CPL 3 is not modelled');
        iret(c, sz);
      };
    }
    case Mnemonic.Int3:
    case Mnemonic.Int: {
      const vector = mn === Mnemonic.Int3 ? 3 : instr.immediate8;
      // Delivery pushes the next instruction's address; a fault during it reports this one.
      return (c) => {
        c.swLo = nl;
        c.swHi = nh;
        fault(c, vector, -1, 'int');
      };
    }
    case Mnemonic.Lidt:
    case Mnemonic.Sidt: {
      const ea = instr.op0Kind === OpKind.Memory ? eaFn(instr, is64, false) : undefined;
      if (!ea) return undefined;
      const load = mn === Mnemonic.Lidt;
      const o16 = instr.code === Code.Lidt_m1632_16;
      return (c) => {
        ea(c);
        if (load) lidt(c, o16);
        else sidt(c);
        c.ipLo = nl;
        c.ipHi = nh;
      };
    }
    case Mnemonic.Leave:
      if (instr.code === Code.Leavew) return undefined;
      // rsp = rbp, then pop rbp; read first so a fault leaves both registers as they were.
      return (c) => {
        const lo = c.lo[5]!;
        const hi = is64 ? c.hi[5]! : 0;
        const v = rd(c, lo, hi, stackSize);
        const vh = stackSize === 8 ? c.vh : 0;
        const n = lo + stackSize;
        c.lo[4] = n >>> 0;
        c.hi[4] = is64 && n > 0xffffffff ? (hi + 1) >>> 0 : hi;
        c.lo[5] = v;
        c.hi[5] = vh;
        c.ipLo = nl;
        c.ipHi = nh;
      };
    case Mnemonic.Invlpg:
      if (instr.op0Kind !== OpKind.Memory) return undefined;
      return (c) => {
        if (c.cpl !== 0) fault(c, 13, 0, 'invlpg at CPL 3');
        c.flushTlb();
        c.serialize();
        c.ipLo = nl;
        c.ipHi = nh;
      };
    case Mnemonic.Ud2:
      return ud('ud2');
    case Mnemonic.Cli:
    case Mnemonic.Sti: {
      const sti = mn === Mnemonic.Sti;
      return (c) => {
        if (c.cpl !== 0) fault(c, 13, 0, `${sti ? 'sti' : 'cli'} at CPL 3`);
        if (sti) c.fl |= FL_IF;
        else c.fl &= ~FL_IF;
        c.ipLo = nl;
        c.ipHi = nh;
      };
    }
    case Mnemonic.Std:
    case Mnemonic.Cld:
    case Mnemonic.Clc:
    case Mnemonic.Stc:
    case Mnemonic.Cmc:
      return (c) => {
        if (mn === Mnemonic.Std) c.fl |= FL_DF;
        else if (mn === Mnemonic.Cld) c.fl &= ~FL_DF;
        else c.cf = mn === Mnemonic.Stc ? 1 : mn === Mnemonic.Clc ? 0 : c.cf ^ 1;
        c.ipLo = nl;
        c.ipHi = nh;
      };
    case Mnemonic.Hlt:
      return (c) => {
        if (c.cpl !== 0) fault(c, 13, 0, 'hlt at CPL 3');
        c.ipLo = nl;
        c.ipHi = nh;
        halt(c);
      };
    case Mnemonic.Pause:
      // Its cost (the delay) is the instruction's entry in the timing table.
      return (c) => {
        c.ipLo = nl;
        c.ipHi = nh;
      };
    case Mnemonic.Cmpxchg: {
      const sz = sizeOf(instr, 0);
      const d = operand(instr, 0, sz, is64);
      const s = operand(instr, 1, sz, is64);
      const acc = regLoc(sz === 8 ? Register.RAX : sz === 4 ? Register.EAX : sz === 2 ? Register.AX : Register.AL);
      if (!d || !s || !acc) return undefined;
      return (c) => {
        const dv = d.get(c);
        const dh = c.vh;
        const av = acc.get(c);
        const ah = c.vh;
        alu(c, CMP, sz, av, ah, dv, dh);
        if (c.zf) {
          const sv = s.get(c);
          d.setAt(c, sv, c.vh);
        } else acc.set(c, dv, dh);
        c.ipLo = nl;
        c.ipHi = nh;
      };
    }
    case Mnemonic.Xchg:
    case Mnemonic.Xadd: {
      const sz = sizeOf(instr, 0);
      const d = operand(instr, 0, sz, is64);
      const s = operand(instr, 1, sz, is64);
      if (!d || !s) return undefined;
      const xadd = mn === Mnemonic.Xadd;
      if (s.mem) return undefined;
      return (c) => {
        const dv = d.get(c);
        const dh = c.vh;
        const sv = s.get(c);
        const sh = c.vh;
        if (xadd) {
          const r = alu(c, ADD, sz, dv, dh, sv, sh);
          const rh = c.rh;
          d.setAt(c, r, rh);
        } else d.setAt(c, sv, sh);
        s.set(c, dv, dh);
        c.ipLo = nl;
        c.ipHi = nh;
      };
    }
    case Mnemonic.Cpuid:
      return (c) => {
        cpuid(c);
        c.serialize();
        c.ipLo = nl;
        c.ipHi = nh;
      };
    case Mnemonic.Swapgs:
      if (!is64) return undefined;
      return (c) => {
        if (c.cpl !== 0) fault(c, 13, 0, 'swapgs at CPL 3');
        const l = c.gsLo;
        const h = c.gsHi;
        c.gsLo = c.kgsLo;
        c.gsHi = c.kgsHi;
        c.kgsLo = l;
        c.kgsHi = h;
        c.ipLo = nl;
        c.ipHi = nh;
      };
    case Mnemonic.Syscall:
      if (!is64) return undefined;
      return (c) => {
        syscall(c, nl, nh);
      };
    case Mnemonic.Sysretq:
    case Mnemonic.Sysret:
      if (!is64 || instr.code !== Code.Sysretq) return undefined;
      return (c) => {
        sysret(c);
      };
    case Mnemonic.Rdmsr:
    case Mnemonic.Wrmsr: {
      const w = mn === Mnemonic.Wrmsr;
      return (c) => {
        if (c.cpl !== 0) fault(c, 13, 0, 'rdmsr/wrmsr at CPL 3');
        if (w) wrmsr(c);
        else rdmsr(c);
        c.ipLo = nl;
        c.ipHi = nh;
      };
    }
    case Mnemonic.Rdtsc:
      return (c) => {
        c.lo[0] = c.cycles >>> 0;
        c.hi[0] = 0;
        c.lo[2] = Math.floor(c.cycles / 4294967296) >>> 0;
        c.hi[2] = 0;
        c.ipLo = nl;
        c.ipHi = nh;
      };
    case Mnemonic.Out:
    case Mnemonic.In: {
      const out = mn === Mnemonic.Out;
      const portOp = out ? 0 : 1;
      const dataOp = out ? 1 : 0;
      const portKind = instr.opKind(portOp);
      const fixedPort = isImm(portKind) ? instr.immediate8 : -1;
      const data = regLoc(instr.opRegister(dataOp));
      if (!data) return undefined;
      return (c) => {
        if (c.cpl !== 0) fault(c, 13, 0, 'port I/O at CPL 3');
        const port = fixedPort >= 0 ? fixedPort : c.lo[2]! & 0xffff;
        if (out) outPort(c, port, data.get(c));
        else data.set(c, inPort(c, port, data.size), 0);
        c.ipLo = nl;
        c.ipHi = nh;
      };
    }
    case Mnemonic.Movsb:
    case Mnemonic.Movsw:
    case Mnemonic.Movsd:
    case Mnemonic.Movsq:
    case Mnemonic.Stosb:
    case Mnemonic.Stosw:
    case Mnemonic.Stosd:
    case Mnemonic.Stosq:
      if (!instr.isStringInstruction) return undefined;
      return buildString(instr, is64, nl, nh);
    default:
      return undefined;
  }
}

function buildMov(instr: Instruction, is64: boolean, nl: number, nh: number): Exec | undefined {
  const k0 = instr.op0Kind;
  const k1 = instr.op1Kind;
  if (k0 === OpKind.Register && instr.op0Register >= Register.CR0 && instr.op0Register <= Register.CR15) {
    const cr = instr.op0Register - Register.CR0;
    const src = regLoc(instr.op1Register);
    if (!src) return undefined;
    return (c) => {
      if (c.cpl !== 0) fault(c, 13, 0, 'mov to CR at CPL 3');
      const l = src.get(c);
      movToCr(c, cr, l, c.vh);
      c.ipLo = nl;
      c.ipHi = nh;
    };
  }
  if (k1 === OpKind.Register && instr.op1Register >= Register.CR0 && instr.op1Register <= Register.CR15) {
    const cr = instr.op1Register - Register.CR0;
    const dst = regLoc(instr.op0Register);
    if (!dst) return undefined;
    return (c) => {
      if (c.cpl !== 0) fault(c, 13, 0, 'mov from CR at CPL 3');
      const l = movFromCr(c, cr);
      dst.set(c, l, c.vh);
      c.ipLo = nl;
      c.ipHi = nh;
    };
  }
  const isSeg = (k: OpKind, r: Register): boolean => k === OpKind.Register && r >= Register.ES && r <= Register.GS;
  if (isSeg(k0, instr.op0Register)) {
    const seg = instr.op0Register;
    const src = operand(instr, 1, 2, is64);
    if (!src || seg === Register.CS) return undefined;
    return (c) => {
      const v = src.get(c) & 0xffff;
      if (seg === Register.SS) c.ss = v;
      else if (seg === Register.DS) c.ds = v;
      else if (seg === Register.ES) c.es = v;
      else if (seg === Register.FS) c.fsSel = v;
      else c.gsSel = v;
      c.ipLo = nl;
      c.ipHi = nh;
    };
  }
  if (isSeg(k1, instr.op1Register)) {
    const seg = instr.op1Register;
    const dst = operand(instr, 0, k0 === OpKind.Memory ? 2 : sizeOf(instr, 0), is64);
    if (!dst) return undefined;
    return (c) => {
      const v = seg === Register.CS ? c.cs : seg === Register.SS ? c.ss : seg === Register.DS ? c.ds : seg === Register.ES ? c.es : seg === Register.FS ? c.fsSel : c.gsSel;
      dst.set(c, v, 0);
      c.ipLo = nl;
      c.ipHi = nh;
    };
  }
  const fast = fastMov(instr, nl, nh) ?? fastMovMem(instr, is64, nl, nh);
  if (fast) return fast;
  const size = k0 === OpKind.Memory ? (memSize(instr) ?? 0) : sizeOf(instr, 0);
  const d = operand(instr, 0, size, is64);
  const s = operand(instr, 1, size, is64);
  if (!d || !s || size === 0) return undefined;
  if (!d.mem && !s.mem) {
    const dset = d.set;
    const sget = s.get;
    return (c) => {
      dset(c, sget(c), c.vh);
      c.ipLo = nl;
      c.ipHi = nh;
    };
  }
  return (c) => {
    const v = s.get(c);
    d.set(c, v, c.vh);
    c.ipLo = nl;
    c.ipHi = nh;
  };
}

function buildString(instr: Instruction, is64: boolean, nl: number, nh: number): Exec | undefined {
  const mn = instr.mnemonic;
  const movs = mn === Mnemonic.Movsb || mn === Mnemonic.Movsw || mn === Mnemonic.Movsd || mn === Mnemonic.Movsq;
  const size = mn === Mnemonic.Movsb || mn === Mnemonic.Stosb ? 1 : mn === Mnemonic.Movsw || mn === Mnemonic.Stosw ? 2 : mn === Mnemonic.Movsq || mn === Mnemonic.Stosq ? 8 : 4;
  const rep = instr.hasRepPrefix || instr.hasRepePrefix;
  const addr32 = !is64 || instr.opKind(0) === OpKind.MemoryESEDI;
  const step = (c: CpuState, r: number, delta: number): void => {
    const n = c.lo[r]! + delta;
    if (addr32) {
      c.lo[r] = n >>> 0;
      c.hi[r] = 0;
      return;
    }
    c.lo[r] = n >>> 0;
    if (n > 0xffffffff) c.hi[r] = (c.hi[r]! + 1) >>> 0;
    else if (n < 0) c.hi[r] = (c.hi[r]! - 1) >>> 0;
  };
  return (c) => {
    const delta = (c.fl & FL_DF) !== 0 ? -size : size;
    for (;;) {
      if (rep && c.lo[1] === 0 && (addr32 || c.hi[1] === 0)) break;
      let vlo: number;
      let vhi: number;
      if (movs) {
        vlo = rd(c, c.lo[6]!, addr32 ? 0 : c.hi[6]!, size);
        vhi = size === 8 ? c.vh : 0;
      } else {
        vlo = size === 1 ? c.lo[0]! & 0xff : size === 2 ? c.lo[0]! & 0xffff : c.lo[0]!;
        vhi = size === 8 ? c.hi[0]! : 0;
      }
      wr(c, c.lo[7]!, addr32 ? 0 : c.hi[7]!, size, vlo, vhi);
      if (movs) step(c, 6, delta);
      step(c, 7, delta);
      if (!rep) break;
      step(c, 1, -1);
      c.cycles += c.m.timing.repIteration;
    }
    c.ipLo = nl;
    c.ipHi = nh;
  };
}
