import { fromLoHi } from './arch.js';
import { fault, rd, wr } from './bus.js';
import type { CpuState } from './cpu.js';
import { DEAD, FL_IF, FL_NT, FL_RF, FL_TF } from './cpu.js';
import { FAULT } from './op.js';
import { GATE_INTERRUPT, GATE_TRAP, readGate, readTssStack } from './idt.js';
import type { GateRead } from './idt.js';
import type { FrameWord } from './tracer.js';

type Kind = 'exception' | 'nmi' | 'interrupt' | 'software';

const FIELDS64 = ['SS', 'RSP', 'RFLAGS', 'CS', 'RIP', 'error code'];
const FIELDS32 = ['SS', 'ESP', 'EFLAGS', 'CS', 'EIP', 'error code'];
const NAMES: Record<number, string> = { 0: '#DE', 1: '#DB', 2: 'NMI', 3: '#BP', 6: '#UD', 8: '#DF', 13: '#GP', 14: '#PF' };
export const vectorName = (v: number): string => NAMES[v] ?? `vector ${v}`;

function setCpl(c: CpuState, cpl: number): void {
  if (c.cpl !== cpl) {
    c.cpl = cpl;
    c.flushTlb();
  }
}

/**
 * Delivers an event. A fault while delivering an exception becomes #DF, and a fault while
 * delivering #DF is a triple fault (the CPU dies) — the rule, a simplification of
 * SDM vol. 3 table 6-5 (which would deliver a #GP raised while delivering a benign #UD or
 * #BP). A fault while delivering an NMI, an external interrupt or `int n` is delivered in
 * its place, as the SDM says (e.g. #GP for a gate beyond the IDT limit).
 */
function deliverEvent(c: CpuState, vector: number, code: number | undefined, kind: Kind): void {
  let v = vector;
  let k = kind;
  let err = code;
  for (;;) {
    const double = v === 8 && k === 'exception';
    c.delivering = double ? 2 : 1;
    try {
      deliver(c, v, err, k);
      c.delivering = 0;
      return;
    } catch (e) {
      if (e !== FAULT) throw e;
      if (double) {
        const reason = `triple fault: ${vectorName(c.fVector)} (${c.fReason}) while delivering #DF`;
        c.state = DEAD;
        c.deathReason = reason;
        c.delivering = 0;
        c.m.tracer?.death(c, reason);
        return;
      }
      noteFault(c);
      const escalate = k === 'exception';
      c.m.tracer?.fault(c, c.fVector, c.fCode, `${c.fReason} (while delivering ${vectorName(v)})${escalate ? ' -> #DF' : ''}`);
      k = 'exception';
      if (escalate) {
        v = 8;
        err = 0;
      } else {
        v = c.fVector;
        err = c.fCode < 0 ? undefined : c.fCode;
      }
    }
  }
}

function noteFault(c: CpuState): void {
  c.counts[c.fVector]!++;
  c.lastFault = { vector: c.fVector, errorCode: c.fCode, rip: fromLoHi(c.ipLo, c.ipHi), reason: c.fReason };
}

/** Delivers the exception (or software interrupt) recorded on the CPU by `fault()`. */
export function deliverException(c: CpuState): void {
  noteFault(c);
  c.m.tracer?.fault(c, c.fVector, c.fCode, c.fReason);
  deliverEvent(c, c.fVector, c.fCode < 0 ? undefined : c.fCode, c.fReason === 'int' ? 'software' : 'exception');
}

/** Delivers an NMI (sets NMI-blocked). */
export function deliverNmi(c: CpuState): void {
  deliverEvent(c, 2, undefined, 'nmi');
  c.nmiBlocked = true;
}

export function deliverIrq(c: CpuState, vector: number): void {
  deliverEvent(c, vector, undefined, 'interrupt');
}

const gate: GateRead = { handlerLo: 0, handlerHi: 0, selector: 0, dpl: 0, ist: 0, trap: false, present: false, type: 0 };

/** Reads and checks the gate, pushes the architectural frame and enters the handler (SDM vol. 3, 6.12 and 6.14). */
function deliver(c: CpuState, vector: number, code: number | undefined, kind: Kind): void {
  const m = c.m;
  const is64 = m.is64;
  const oldCpl = c.cpl;
  const info = m.info;
  const ext = kind === 'software' ? 0 : 1;
  const rflags = c.rflags();
  const oldRspLo = c.lo[4]!;
  const oldRspHi = c.hi[4]!;
  const retLo = kind === 'software' ? c.swLo : c.ipLo;
  const retHi = kind === 'software' ? c.swHi : c.ipHi;
  const cs = c.cs;
  const ss = c.ss;
  const w = is64 ? 8 : 4;
  const words: FrameWord[] | null = m.tracer !== null ? [] : null;
  // The IDT, the TSS and the frame are supervisor accesses.
  setCpl(c, 0);
  try {
    readGate(c, vector, ext, gate);
    if (gate.type !== GATE_INTERRUPT && gate.type !== GATE_TRAP) fault(c, 13, vector * 8 + 2 + ext, `${vectorName(vector)} gate has type 0x${gate.type.toString(16)}, not an interrupt or trap gate`);
    if (kind === 'software' && gate.dpl < oldCpl) fault(c, 13, vector * 8 + 2, `int ${vector} from CPL ${oldCpl} through a DPL ${gate.dpl} gate`);
    if (!gate.present) fault(c, 13, vector * 8 + 2 + ext, `${vectorName(vector)} gate not present`);
    if (gate.selector !== info.kernelCs) fault(c, 13, (gate.selector & 0xfffc) + ext, `${vectorName(vector)} gate selector 0x${gate.selector.toString(16)} is not the kernel code segment`);
    // The new stack pointer goes to c.eaLo/c.eaHi, which pushWord then walks down.
    if (is64) {
      const s = gate.handlerHi >> 15;
      if (s !== 0 && s !== -1) fault(c, 13, ext, `${vectorName(vector)} gate handler is not canonical`);
      if (gate.ist !== 0) readTssStack(c, gate.ist);
      else if (oldCpl === 3) readTssStack(c, 0);
      else {
        c.eaLo = oldRspLo;
        c.eaHi = oldRspHi;
      }
      c.eaLo = (c.eaLo & ~15) >>> 0;
      pushWord(c, w, ss, 0, 'SS', words);
      pushWord(c, w, oldRspLo, oldRspHi, 'RSP', words);
      pushWord(c, w, rflags, 0, 'RFLAGS', words);
      pushWord(c, w, cs, 0, 'CS', words);
      pushWord(c, w, retLo, retHi, 'RIP', words);
    } else {
      if (oldCpl === 3) {
        readTssStack(c, 0);
        c.eaHi = 0;
        pushWord(c, w, ss, 0, 'SS', words);
        pushWord(c, w, oldRspLo, 0, 'ESP', words);
      } else {
        c.eaLo = oldRspLo;
        c.eaHi = 0;
      }
      pushWord(c, w, rflags, 0, 'EFLAGS', words);
      pushWord(c, w, cs, 0, 'CS', words);
      pushWord(c, w, retLo, 0, 'EIP', words);
    }
    if (code !== undefined) pushWord(c, w, code >>> 0, 0, 'error code', words);
  } catch (e) {
    setCpl(c, oldCpl);
    throw e;
  }
  c.lo[4] = c.eaLo;
  c.hi[4] = c.eaHi;
  if (oldCpl === 3) c.ss = is64 ? 0 : info.kernelSs;
  c.cs = gate.selector;
  c.ipLo = gate.handlerLo;
  c.ipHi = gate.handlerHi;
  c.fl &= ~(FL_TF | FL_NT | FL_RF);
  if (!gate.trap) c.fl &= ~FL_IF;
  c.serialize();
  c.counts[256 + vector]!++;
  if (words !== null) m.tracer?.delivery(c, { vector, kind, errorCode: code, ist: is64 ? gate.ist : 0, fromCpl: oldCpl, handler: fromLoHi(gate.handlerLo, gate.handlerHi), words: words.reverse() });
}

/** Pushes one frame word below c.eaLo/c.eaHi (the stack pointer being built) and moves it down. */
function pushWord(c: CpuState, w: number, vl: number, vh: number, field: string, words: FrameWord[] | null): void {
  const n = c.eaLo - w;
  const hi = n < 0 ? (c.m.is64 ? (c.eaHi - 1) >>> 0 : 0) : c.eaHi;
  const lo = n < 0 ? n + 4294967296 : n;
  wr(c, lo, hi, w, vl, vh);
  c.eaLo = lo;
  c.eaHi = hi;
  if (words !== null) words.push({ field, address: fromLoHi(lo, hi), value: fromLoHi(vl, vh) });
}

/** iret/iretd/iretq: pops the frame, validates the selectors, clears NMI-blocked, serializes. */
export function iret(c: CpuState, size: number): void {
  const m = c.m;
  const info = m.info;
  let lo = c.lo[4]!;
  let hi = c.hi[4]!;
  const words: FrameWord[] = [];
  const popOne = (field: string): [number, number] => {
    const v = rd(c, lo, hi, size);
    const vh = size === 8 ? c.vh : 0;
    if (m.tracer !== null) words.push({ field, address: fromLoHi(lo, hi), value: fromLoHi(v, vh) });
    const n = lo + size;
    lo = n >>> 0;
    if (n > 0xffffffff) hi = m.is64 ? (hi + 1) >>> 0 : 0;
    return [v, vh];
  };
  const F = m.is64 ? FIELDS64 : FIELDS32;
  const [ripLo, ripHi] = popOne(F[4]!);
  const [cs] = popOne(F[3]!);
  const [fl] = popOne(F[2]!);
  const toCpl = cs & 3;
  const okCs = toCpl === 0 ? cs === info.kernelCs : cs === info.userCs;
  if (!okCs) fault(c, 13, cs & 0xfffc, `iret to invalid CS 0x${cs.toString(16)}`);
  if (toCpl < c.cpl) fault(c, 13, cs & 0xfffc, 'iret to a more privileged level');
  let spLo = lo;
  let spHi = hi;
  let ss = c.ss;
  if (m.is64 || toCpl > c.cpl) {
    const [rl, rh] = popOne(F[1]!);
    const [s] = popOne(F[0]!);
    spLo = rl;
    spHi = m.is64 ? rh : 0;
    ss = s & 0xffff;
    const okSs = toCpl === 3 ? ss === info.userSs : ss === 0 || ss === info.kernelSs;
    if (!okSs) fault(c, 13, ss & 0xfffc, `iret to invalid SS 0x${ss.toString(16)}`);
  }
  if (m.is64) {
    const s = ripHi >> 15;
    if (s !== 0 && s !== -1) fault(c, 13, 0, 'iret to a non-canonical RIP');
  }
  let flags = fl;
  if (c.cpl !== 0) flags = (flags & ~(FL_IF | 0x3000)) | (c.fl & (FL_IF | 0x3000));
  c.setRflags(flags & 0x257fd5); // IF (bit 9) and IOPL come back from the frame at CPL 0
  c.ipLo = ripLo;
  c.ipHi = ripHi;
  c.cs = cs;
  c.ss = ss;
  c.lo[4] = spLo;
  c.hi[4] = spHi;
  setCpl(c, toCpl);
  c.nmiBlocked = false;
  c.serialize();
  m.tracer?.iret(c, { words, toCpl });
}

/** syscall: enter CPL 0 at LSTAR with RCX/R11 holding the return RIP and RFLAGS (RSP unchanged). */
export function syscall(c: CpuState, nextLo: number, nextHi: number): void {
  c.lo[1] = nextLo;
  c.hi[1] = nextHi;
  const f = c.rflags();
  c.lo[11] = f;
  c.hi[11] = 0;
  c.setRflags(f & ~c.fmask & ~FL_RF);
  c.cs = (c.starHi & 0xfffc) >>> 0;
  c.ss = ((c.starHi & 0xffff) + 8) & 0xfffc;
  c.ipLo = c.lstarLo;
  c.ipHi = c.lstarHi;
  setCpl(c, 0);
}

export function sysret(c: CpuState): void {
  if (c.cpl !== 0) fault(c, 13, 0, 'sysret outside CPL 0');
  const s = c.hi[1]! >> 15;
  if (s !== 0 && s !== -1) fault(c, 13, 0, 'sysret to a non-canonical RCX');
  c.ipLo = c.lo[1]!;
  c.ipHi = c.hi[1]!;
  c.setRflags((c.lo[11]! & 0x3c7fd7) | 2);
  const base = c.starHi >>> 16;
  c.cs = ((base + 16) | 3) & 0xffff;
  c.ss = ((base + 8) | 3) & 0xffff;
  setCpl(c, 3);
}
