import { Code, Mnemonic, OpKind, Register } from 'iced-x86';
import type { Instruction } from 'iced-x86';
import { R, VECTOR } from '../arch.js';
import { fault, rd, wr } from '../bus.js';
import { nopSource } from '../block-source.js';
import type { CpuState } from '../cpu.js';
import { FL_DF, FL_IF } from '../cpu.js';
import { lidt, sidt } from '../idt.js';
import { syscall, sysret } from '../interrupts.js';
import { eaFn, isImm, operand, regLoc } from '../operands.js';
import { cpuid, halt, inPort, movFromCr, movToCr, outPort, rdmsr, wrmsr } from '../system.js';
import type { Ctx, Exec, IsaEntry } from './types.js';
import { need, sizeOf, unsupported } from './types.js';

/** #GP(0) unless the CPU runs at CPL 0. */
export function privileged(c: CpuState, what: string): void {
  if (c.cpl !== 0) fault(c, VECTOR.GP, 0, `${what} at CPL 3`);
}

const isCr = (k: OpKind, r: Register): boolean => k === OpKind.Register && r >= Register.CR0 && r <= Register.CR15;
const isSeg = (k: OpKind, r: Register): boolean => k === OpKind.Register && r >= Register.ES && r <= Register.GS;

function segValue(c: CpuState, seg: Register): number {
  switch (seg) {
    case Register.CS:
      return c.cs;
    case Register.SS:
      return c.ss;
    case Register.DS:
      return c.ds;
    case Register.ES:
      return c.es;
    case Register.FS:
      return c.fsSel;
    default:
      return c.gsSel;
  }
}

function setSeg(c: CpuState, seg: Register, v: number): void {
  if (seg === Register.SS) c.ss = v;
  else if (seg === Register.DS) c.ds = v;
  else if (seg === Register.ES) c.es = v;
  else if (seg === Register.FS) c.fsSel = v;
  else c.gsSel = v;
}

/** mov to/from a control or segment register; undefined for an ordinary mov. */
export function movCrOrSeg(instr: Instruction, x: Ctx): Exec | undefined {
  const { nl, nh, is64 } = x;
  const k0 = instr.op0Kind;
  const k1 = instr.op1Kind;
  if (isCr(k0, instr.op0Register)) {
    const cr = instr.op0Register - Register.CR0;
    const src = need(regLoc(instr.op1Register), 'mov to CR source');
    return (c) => {
      if (c.cpl !== 0) fault(c, VECTOR.GP, 0, 'mov to CR at CPL 3');
      const l = src.get(c);
      movToCr(c, cr, l, c.vh);
      c.ipLo = nl;
      c.ipHi = nh;
    };
  }
  if (isCr(k1, instr.op1Register)) {
    const cr = instr.op1Register - Register.CR0;
    const dst = need(regLoc(instr.op0Register), 'mov from CR destination');
    return (c) => {
      if (c.cpl !== 0) fault(c, VECTOR.GP, 0, 'mov from CR at CPL 3');
      const l = movFromCr(c, cr);
      dst.set(c, l, c.vh);
      c.ipLo = nl;
      c.ipHi = nh;
    };
  }
  if (isSeg(k0, instr.op0Register)) {
    const seg = instr.op0Register;
    if (seg === Register.CS) unsupported('mov to CS');
    const src = need(operand(instr, 1, 2, is64), 'mov to segment source');
    return (c) => {
      setSeg(c, seg, src.get(c) & 0xffff);
      c.ipLo = nl;
      c.ipHi = nh;
    };
  }
  if (isSeg(k1, instr.op1Register)) {
    const seg = instr.op1Register;
    const dst = need(operand(instr, 0, k0 === OpKind.Memory ? 2 : sizeOf(instr, 0), is64), 'mov from segment destination');
    return (c) => {
      dst.set(c, segValue(c, seg), 0);
      c.ipLo = nl;
      c.ipHi = nh;
    };
  }
  return undefined;
}

function buildCliSti(instr: Instruction, { nl, nh }: Ctx): Exec {
  const sti = instr.mnemonic === Mnemonic.Sti;
  return (c) => {
    privileged(c, sti ? 'sti' : 'cli');
    if (sti) c.fl |= FL_IF;
    else c.fl &= ~FL_IF;
    c.ipLo = nl;
    c.ipHi = nh;
  };
}

function buildFlagOp(instr: Instruction, { nl, nh }: Ctx): Exec {
  const mn = instr.mnemonic;
  return (c) => {
    if (mn === Mnemonic.Std) c.fl |= FL_DF;
    else if (mn === Mnemonic.Cld) c.fl &= ~FL_DF;
    else c.cf = mn === Mnemonic.Stc ? 1 : mn === Mnemonic.Clc ? 0 : c.cf ^ 1;
    c.ipLo = nl;
    c.ipHi = nh;
  };
}

function buildNop(instr: Instruction, { nl, nh }: Ctx): Exec {
  // 0F 0D with a register operand is not a prefetch: #UD on the reference CPU.
  if (instr.mnemonic === Mnemonic.Reservednop && Code[instr.code].endsWith('0F0D') && instr.op0Kind === OpKind.Register) unsupported('0F 0D with a register operand');
  const nop: Exec = (c) => {
    c.ipLo = nl;
    c.ipHi = nh;
  };
  return nopSource(nop, nl, nh);
}

function buildHlt(_instr: Instruction, { nl, nh }: Ctx): Exec {
  return (c) => {
    privileged(c, 'hlt');
    c.ipLo = nl;
    c.ipHi = nh;
    halt(c);
  };
}

function buildPause(_instr: Instruction, { nl, nh }: Ctx): Exec {
  // Its cost (the delay) is the instruction's entry in the timing table.
  return (c) => {
    c.ipLo = nl;
    c.ipHi = nh;
  };
}

function buildCpuid(_instr: Instruction, { nl, nh }: Ctx): Exec {
  return (c) => {
    cpuid(c);
    c.serialize();
    c.ipLo = nl;
    c.ipHi = nh;
  };
}

function buildSwapgs(_instr: Instruction, { nl, nh, is64 }: Ctx): Exec {
  if (!is64) unsupported('swapgs outside 64-bit mode');
  return (c) => {
    privileged(c, 'swapgs');
    const l = c.gsLo;
    const h = c.gsHi;
    c.gsLo = c.kgsLo;
    c.gsHi = c.kgsHi;
    c.kgsLo = l;
    c.kgsHi = h;
    c.ipLo = nl;
    c.ipHi = nh;
  };
}

function buildSyscall(_instr: Instruction, { nl, nh, is64 }: Ctx): Exec {
  if (!is64) unsupported('syscall outside 64-bit mode');
  return (c) => {
    syscall(c, nl, nh);
  };
}

function buildSysret(instr: Instruction, { is64 }: Ctx): Exec {
  if (!is64 || instr.code !== Code.Sysretq) unsupported('sysret other than sysretq');
  return (c) => {
    sysret(c);
  };
}

function buildMsr(instr: Instruction, { nl, nh }: Ctx): Exec {
  const w = instr.mnemonic === Mnemonic.Wrmsr;
  return (c) => {
    privileged(c, 'rdmsr/wrmsr');
    if (w) wrmsr(c);
    else rdmsr(c);
    c.ipLo = nl;
    c.ipHi = nh;
  };
}

function buildRdtsc(_instr: Instruction, { nl, nh }: Ctx): Exec {
  return (c) => {
    c.lo[R.RAX] = c.cycles >>> 0;
    c.hi[R.RAX] = 0;
    c.lo[R.RDX] = Math.floor(c.cycles / 4294967296) >>> 0;
    c.hi[R.RDX] = 0;
    c.ipLo = nl;
    c.ipHi = nh;
  };
}

function buildIdtr(instr: Instruction, { nl, nh, is64 }: Ctx): Exec {
  if (instr.op0Kind !== OpKind.Memory) unsupported('lidt/sidt without a memory operand');
  const ea = need(eaFn(instr, is64, false), 'lidt/sidt address');
  const load = instr.mnemonic === Mnemonic.Lidt;
  const o16 = instr.code === Code.Lidt_m1632_16;
  return (c) => {
    ea(c);
    if (load) lidt(c, o16);
    else sidt(c);
    c.ipLo = nl;
    c.ipHi = nh;
  };
}

function buildInvlpg(instr: Instruction, { nl, nh }: Ctx): Exec {
  if (instr.op0Kind !== OpKind.Memory) unsupported('invlpg without a memory operand');
  return (c) => {
    privileged(c, 'invlpg');
    c.flushTlb();
    c.serialize();
    c.ipLo = nl;
    c.ipHi = nh;
  };
}

function buildUd2(): Exec {
  return (c) => fault(c, VECTOR.UD, -1, 'ud2');
}

function buildPortIo(instr: Instruction, { nl, nh }: Ctx): Exec {
  const out = instr.mnemonic === Mnemonic.Out;
  const portKind = instr.opKind(out ? 0 : 1);
  const fixedPort = isImm(portKind) ? instr.immediate8 : -1;
  const data = need(regLoc(instr.opRegister(out ? 1 : 0)), 'port data register');
  return (c) => {
    privileged(c, 'port I/O');
    const port = fixedPort >= 0 ? fixedPort : c.lo[R.RDX]! & 0xffff;
    if (out) outPort(c, port, data.get(c));
    else data.set(c, inPort(c, port, data.size), 0);
    c.ipLo = nl;
    c.ipHi = nh;
  };
}

/** rdtscp: rdtsc plus IA32_TSC_AUX in ECX, which Linux sets to the CPU number (node 0). */
function buildRdtscp(instr: Instruction, x: Ctx): Exec {
  const tsc = buildRdtsc(instr, x);
  return (c) => {
    c.lo[R.RCX] = c.id;
    c.hi[R.RCX] = 0;
    tsc(c);
  };
}

/** clflush: no cache is modelled, but the line's address must be readable as for a load. */
function buildClflush(instr: Instruction, { nl, nh, is64 }: Ctx): Exec {
  const ea = need(eaFn(instr, is64, false), 'clflush address');
  return (c) => {
    ea(c);
    rd(c, c.eaLo, c.eaHi, 1);
    c.ipLo = nl;
    c.ipHi = nh;
  };
}

function buildWbinvd(_instr: Instruction, { nl, nh }: Ctx): Exec {
  return (c) => {
    privileged(c, 'wbinvd');
    c.ipLo = nl;
    c.ipHi = nh;
  };
}

/**
 * sgdt and str. The machine models no GDT: sgdt stores Linux 3.3's per-CPU GDT limit
 * (GDT_ENTRIES * 8 - 1) with base 0, str the selector of Linux's TSS entry (GDT_ENTRY_TSS * 8).
 */
function buildSgdtStr(instr: Instruction, { nl, nh, is64 }: Ctx): Exec {
  if (instr.mnemonic === Mnemonic.Str) {
    const d = need(operand(instr, 0, instr.op0Kind === OpKind.Memory ? 2 : sizeOf(instr, 0), is64), 'str destination');
    const sel = is64 ? 8 * 8 : 16 * 8;
    return (c) => {
      d.set(c, sel, 0);
      c.ipLo = nl;
      c.ipHi = nh;
    };
  }
  const ea = need(eaFn(instr, is64, false), 'sgdt address');
  const limit = is64 ? 16 * 8 - 1 : 32 * 8 - 1;
  return (c) => {
    ea(c);
    const lo = c.eaLo;
    const hi = c.eaHi;
    wr(c, lo, hi, 2, limit, 0);
    const b = lo + 2;
    wr(c, b >>> 0, b > 0xffffffff ? (hi + 1) >>> 0 : hi, is64 ? 8 : 4, 0, 0);
    c.ipLo = nl;
    c.ipHi = nh;
  };
}

const NOPS = [Mnemonic.Nop, Mnemonic.Reservednop, Mnemonic.Prefetch, Mnemonic.Prefetchwt1, Mnemonic.Cldemote, Mnemonic.Prefetchit0, Mnemonic.Prefetchit1, Mnemonic.Prefetchnta, Mnemonic.Prefetcht0, Mnemonic.Prefetcht1, Mnemonic.Prefetcht2, Mnemonic.Prefetchw, Mnemonic.Lfence, Mnemonic.Mfence, Mnemonic.Sfence];

export const SYSTEM_ENTRIES: readonly IsaEntry[] = [
  { names: ['nop (all forms)'], family: 'system', mnemonics: NOPS, build: buildNop },
  { names: ['cli', 'sti'], family: 'system', mnemonics: [Mnemonic.Cli, Mnemonic.Sti], build: buildCliSti },
  { names: ['clc', 'stc', 'cmc', 'std', 'cld'], family: 'flags', mnemonics: [Mnemonic.Clc, Mnemonic.Stc, Mnemonic.Cmc, Mnemonic.Std, Mnemonic.Cld], build: buildFlagOp },
  { names: ['hlt'], family: 'system', mnemonics: [Mnemonic.Hlt], build: buildHlt },
  { names: ['pause'], family: 'system', mnemonics: [Mnemonic.Pause], build: buildPause },
  { names: ['cpuid'], family: 'system', mnemonics: [Mnemonic.Cpuid], build: buildCpuid },
  { names: ['swapgs'], family: 'system', mnemonics: [Mnemonic.Swapgs], build: buildSwapgs },
  { names: ['syscall'], family: 'system', mnemonics: [Mnemonic.Syscall], build: buildSyscall },
  { names: ['sysretq'], family: 'system', mnemonics: [Mnemonic.Sysretq, Mnemonic.Sysret], build: buildSysret },
  { names: ['rdmsr', 'wrmsr'], family: 'system', mnemonics: [Mnemonic.Rdmsr, Mnemonic.Wrmsr], build: buildMsr },
  { names: ['rdtsc'], family: 'system', mnemonics: [Mnemonic.Rdtsc], build: buildRdtsc },
  { names: ['lidt', 'sidt'], family: 'system', mnemonics: [Mnemonic.Lidt, Mnemonic.Sidt], build: buildIdtr },
  { names: ['invlpg'], family: 'system', mnemonics: [Mnemonic.Invlpg], build: buildInvlpg },
  { names: ['ud2'], family: 'system', mnemonics: [Mnemonic.Ud2], build: buildUd2 },
  { names: ['in', 'out'], family: 'system', mnemonics: [Mnemonic.In, Mnemonic.Out], build: buildPortIo },
  { names: ['rdtscp'], family: 'system', mnemonics: [Mnemonic.Rdtscp], build: buildRdtscp },
  { names: ['clflush'], family: 'system', mnemonics: [Mnemonic.Clflush], build: buildClflush },
  { names: ['wbinvd'], family: 'system', mnemonics: [Mnemonic.Wbinvd], build: buildWbinvd },
  { names: ['sgdt', 'str'], family: 'system', mnemonics: [Mnemonic.Sgdt, Mnemonic.Str], build: buildSgdtStr },
];
