import { OpKind } from 'iced-x86';
import type { Instruction } from 'iced-x86';
import { alu, CMP, cond, TEST } from './alu.js';
import type { CpuState } from './cpu.js';
import { rdFast, wrFast } from './bus.js';
import { eaFn, immHalves, memSize, regInfo } from './operands.js';
import { pop, push } from './stack.js';
import { aluSource, jccSource, movMemSource, movSource, pushPopSource } from './block-source.js';

type Exec = (c: CpuState) => void;

/**
 * Specialised closures for the commonest shapes (32/64-bit register destinations with a
 * register or immediate source, conditional jumps): they read the register file directly
 * instead of going through operand accessors.
 */
export function fastAlu(instr: Instruction, op: number, nl: number, nh: number): Exec | undefined {
  if (instr.op0Kind !== OpKind.Register) return undefined;
  const d = regInfo(instr.op0Register);
  if (!d) return undefined;
  if (d.size < 4) return undefined;
  const size = d.size;
  const di = d.idx;
  const writes = op !== CMP && op !== TEST;
  const k1 = instr.op1Kind;
  if (k1 === OpKind.Register) {
    const s = regInfo(instr.op1Register);
    if (s?.size !== size) return undefined;
    const si = s.idx;
    return aluSource(size === 8 ? aluReg64(op, di, si, writes, nl, nh) : aluReg32(op, di, si, writes, nl, nh), op, size as 4 | 8, di, { reg: si }, writes, nl, nh);
  }
  if (k1 === OpKind.Immediate32 || k1 === OpKind.Immediate8to32 || k1 === OpKind.Immediate8to64 || k1 === OpKind.Immediate32to64) {
    const [il, ih] = immHalves(instr.immediate(1), size);
    return aluSource(size === 8 ? aluImm64(op, di, il, ih, writes, nl, nh) : aluImm32(op, di, il, writes, nl, nh), op, size as 4 | 8, di, { il, ih }, writes, nl, nh);
  }
  return undefined;
}

// aluReg64/aluReg32/aluImm64/aluImm32 are one shape four times on purpose: a hot-path
// specialisation per width and source kind, so no closure branches on them per instruction.
function aluReg64(op: number, di: number, si: number, writes: boolean, nl: number, nh: number): Exec {
  return (c) => {
    const r = alu(c, op, 8, c.lo[di]!, c.hi[di]!, c.lo[si]!, c.hi[si]!);
    if (writes) {
      c.lo[di] = r;
      c.hi[di] = c.rh;
    }
    c.ipLo = nl;
    c.ipHi = nh;
  };
}

function aluReg32(op: number, di: number, si: number, writes: boolean, nl: number, nh: number): Exec {
  return (c) => {
    const r = alu(c, op, 4, c.lo[di]!, 0, c.lo[si]!, 0);
    if (writes) {
      c.lo[di] = r;
      c.hi[di] = 0;
    }
    c.ipLo = nl;
    c.ipHi = nh;
  };
}

function aluImm64(op: number, di: number, il: number, ih: number, writes: boolean, nl: number, nh: number): Exec {
  return (c) => {
    const r = alu(c, op, 8, c.lo[di]!, c.hi[di]!, il, ih);
    if (writes) {
      c.lo[di] = r;
      c.hi[di] = c.rh;
    }
    c.ipLo = nl;
    c.ipHi = nh;
  };
}

function aluImm32(op: number, di: number, il: number, writes: boolean, nl: number, nh: number): Exec {
  return (c) => {
    const r = alu(c, op, 4, c.lo[di]!, 0, il, 0);
    if (writes) {
      c.lo[di] = r;
      c.hi[di] = 0;
    }
    c.ipLo = nl;
    c.ipHi = nh;
  };
}

/** mov between 32/64-bit registers, or an immediate into one. */
export function fastMov(instr: Instruction, nl: number, nh: number): Exec | undefined {
  if (instr.op0Kind !== OpKind.Register) return undefined;
  const d = regInfo(instr.op0Register);
  if (!d) return undefined;
  if (d.size < 4) return undefined;
  const di = d.idx;
  const wide = d.size === 8;
  if (instr.op1Kind === OpKind.Register) {
    const s = regInfo(instr.op1Register);
    if (s?.size !== d.size) return undefined;
    const si = s.idx;
    const exec: Exec = (c) => {
      c.lo[di] = c.lo[si]!;
      c.hi[di] = wide ? c.hi[si]! : 0;
      c.ipLo = nl;
      c.ipHi = nh;
    };
    return movSource(exec, di, { reg: si, wide }, nl, nh);
  }
  const k = instr.op1Kind;
  if (k === OpKind.Immediate32 || k === OpKind.Immediate64 || k === OpKind.Immediate32to64) {
    const [il, ih] = immHalves(instr.immediate(1), d.size);
    const exec: Exec = (c) => {
      c.lo[di] = il;
      c.hi[di] = ih;
      c.ipLo = nl;
      c.ipHi = nh;
    };
    return movSource(exec, di, { il, ih }, nl, nh);
  }
  return undefined;
}

/** Conditional jumps with the condition test inlined for the frequent codes. */
export function fastJcc(cc: number, tl: number, th: number, nl: number, nh: number): Exec {
  return jccSource(jccClosure(cc, tl, th, nl, nh), cc, tl, th, nl, nh);
}

function jccClosure(cc: number, tl: number, th: number, nl: number, nh: number): Exec {
  switch (cc) {
    case 4:
      return (c) => {
        if (c.zf !== 0) {
          c.ipLo = tl;
          c.ipHi = th;
        } else {
          c.ipLo = nl;
          c.ipHi = nh;
        }
      };
    case 5:
      return (c) => {
        if (c.zf === 0) {
          c.ipLo = tl;
          c.ipHi = th;
        } else {
          c.ipLo = nl;
          c.ipHi = nh;
        }
      };
    case 2:
      return (c) => {
        if (c.cf !== 0) {
          c.ipLo = tl;
          c.ipHi = th;
        } else {
          c.ipLo = nl;
          c.ipHi = nh;
        }
      };
    case 3:
      return (c) => {
        if (c.cf === 0) {
          c.ipLo = tl;
          c.ipHi = th;
        } else {
          c.ipLo = nl;
          c.ipHi = nh;
        }
      };
    default:
      return (c) => {
        if (cond(c, cc)) {
          c.ipLo = tl;
          c.ipHi = th;
        } else {
          c.ipLo = nl;
          c.ipHi = nh;
        }
      };
  }
}

/** mov between a 32/64-bit register and memory. */
export function fastMovMem(instr: Instruction, is64: boolean, nl: number, nh: number): Exec | undefined {
  const store = instr.op0Kind === OpKind.Memory && instr.op1Kind === OpKind.Register;
  const load = instr.op1Kind === OpKind.Memory && instr.op0Kind === OpKind.Register;
  if (!store && !load) return undefined;
  const r = regInfo(store ? instr.op1Register : instr.op0Register);
  const size = memSize(instr);
  if (!r || r.size < 4 || size !== r.size) return undefined;
  const ea = eaFn(instr, is64, false);
  if (!ea) return undefined;
  const ri = r.idx;
  const wide = size === 8;
  if (store) {
    const st: Exec = (c) => {
      ea(c);
      wrFast(c, c.eaLo, c.eaHi, size, c.lo[ri]!, wide ? c.hi[ri]! : 0);
      c.ipLo = nl;
      c.ipHi = nh;
    };
    return movMemSource(st, ea, true, size, ri, nl, nh);
  }
  const ld: Exec = (c) => {
    ea(c);
    const v = rdFast(c, c.eaLo, c.eaHi, size);
    c.hi[ri] = wide ? c.vh : 0;
    c.lo[ri] = v;
    c.ipLo = nl;
    c.ipHi = nh;
  };
  return movMemSource(ld, ea, false, size, ri, nl, nh);
}

/** push/pop of a full-width general register (the prologue/epilogue and register-save shapes). */
export function fastPushPop(instr: Instruction, isPush: boolean, stackSize: number, is64: boolean, nl: number, nh: number): Exec | undefined {
  if (instr.op0Kind !== OpKind.Register) return undefined;
  const r = regInfo(instr.op0Register);
  if (r?.size !== stackSize || (stackSize !== 4 && stackSize !== 8)) return undefined;
  const ri = r.idx;
  const wide = stackSize === 8;
  if (isPush) {
    // The value is read before push moves RSP, so `push %rsp` pushes the old RSP.
    const pushReg: Exec = (c) => {
      push(c, stackSize, c.lo[ri]!, wide ? c.hi[ri]! : 0);
      c.ipLo = nl;
      c.ipHi = nh;
    };
    return pushPopSource(pushReg, true, stackSize, ri, is64, nl, nh);
  }
  // pop moves RSP first, then the register is written: `pop %rsp` loads the popped value.
  const popReg: Exec = (c) => {
    const v = pop(c, stackSize);
    c.hi[ri] = wide ? c.vh : 0;
    c.lo[ri] = v;
    c.ipLo = nl;
    c.ipHi = nh;
  };
  return pushPopSource(popReg, false, stackSize, ri, is64, nl, nh);
}
