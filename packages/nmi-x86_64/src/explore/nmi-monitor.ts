import type { Machine, RegName } from '@kernsim/cpu-core';
import type { Choice, Finding, Monitor } from '@kernsim/cpu-core/explore';
import { Lanes } from './digest-lanes.js';

/** The names of the built-in NMI invariants, as reports print them. */
export const NMI_INVARIANTS = {
  transparent: 'nmi-transparent',
  once: 'nmi-handled-once',
  notNested: 'nmi-handler-not-nested',
  returnFrame: 'return-frame',
  stack: 'nmi-stack',
  fatal: 'fatal',
} as const;

export type NmiInvariantName = (typeof NMI_INVARIANTS)[keyof typeof NMI_INVARIANTS];

const GPRS64: readonly RegName[] = ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];
const GPRS32: readonly RegName[] = ['eax', 'ebx', 'ecx', 'edx', 'esi', 'edi', 'ebp'];

/** What an NMI (or a #BP/#PF) interrupted: every register the interrupted code can read afterwards. */
interface Context {
  readonly kind: 'NMI' | '#BP' | '#PF';
  /** Address of the RIP slot of the frame the CPU pushed. */
  readonly frame: bigint;
  readonly rip: bigint;
  readonly cs: bigint;
  readonly rflags: bigint;
  readonly rsp: bigint;
  readonly ss: bigint;
  readonly regs: readonly bigint[];
  readonly gs: bigint;
  readonly kernelGs: bigint;
  readonly fs: bigint;
  /** All of the above as 64 bits, for the monitor's key (built once: a context lives across many tracks). */
  readonly h1: number;
  readonly h2: number;
}

interface CpuTrack {
  readonly active: readonly Context[];
  /** NMIs delivered since the handler last started a run (a run handles all of them: merging). */
  readonly owed: number;
  readonly delivered: number;
  /** Windows closed: the CPU came back from its outermost NMI. */
  readonly windows: number;
}

interface Pending {
  readonly rip: bigint;
  readonly iretFrame: bigint | undefined;
  /** The step is a `ret` (followed only when the entry returns without iret somewhere). */
  readonly ret: boolean;
  readonly atHandlerStart: boolean;
}

export interface NmiTrackState {
  readonly cpus: readonly CpuTrack[];
}

export interface NmiMonitorConfig {
  /** CPUs whose NMIs are tracked (the ones NMIs are raised at). */
  readonly cpus: readonly number[];
  /** Where, relative to the hardware frame, the entry's final iret pops its frame (NmiEntry.exitFrameOffsets). */
  readonly exitFrameOffsets: readonly number[];
  /** Where an iret may legitimately go instead of the interrupted context (3.3's repeat_nmi). */
  readonly trampolines: readonly bigint[];
  /** The first instruction of a handler run (do_nmi past the nesting check). */
  readonly handlerStart: bigint;
  /** The #BP and #PF entry points (their frames are followed too: a return through an overwritten one is a violation). */
  readonly exceptionEntries: { readonly breakpoint: bigint; readonly pageFault: bigint };
  /**
   * The exception-table fixup of a faulting instruction, if it has one: a #PF there returns to the
   * fixup by design (the handler rewrites the saved RIP), which is not an overwritten frame.
   */
  readonly exceptionFixup?: (m: Machine, rip: bigint) => bigint | undefined;
  /** [bottom, top) of each tracked CPU's NMI stack (x86_64: IST; i386 has none, NMIs use the current stack). */
  readonly nmiStack?: (cpu: number) => readonly [bigint, bigint];
  /** 8 on x86_64, 4 on i386 (frame words, registers). */
  readonly wordSize: 4 | 8;
  readonly symbolize: (a: bigint) => string;
  /**
   * The entry or the exception exits return to an interrupted context with `ret`, not iret
   * (NmiEntry.returnsWithoutIret): a `ret` that lands on the innermost context's RIP and RSP
   * (a #BP's: its RSP, as a kprobe resumes in its slot) is that context's return.
   */
  readonly retReturns?: boolean;
}

const hex = (v: bigint): string => `0x${v.toString(16)}`;

/**
 * Follows every NMI of the tracked CPUs along a path and judges each return: the interrupted
 * context must get back exactly its state (`nmi-transparent`), the entry's final iret must pop
 * the frame the NMI came with (`return-frame`; #BP and #PF frames are followed the same way,
 * so a breakpoint whose IST frame a nested one overwrote is caught), and every delivered NMI must be covered by
 * a handler run that started after it (hardware-style merging), with no run covering none
 * (`nmi-handled-once`). It also watches the NMI stack's lower bound (`nmi-stack`).
 */
export function nmiMonitor(cfg: NmiMonitorConfig): Monitor<NmiTrackState> {
  const isIret = opcodeAt((b) => (cfg.wordSize === 8 ? b[0] === 0x48 && b[1] === 0xcf : b[0] === 0xcf));
  const isRet = opcodeAt((b) => b[0] === 0xc3);
  const index = new Map(cfg.cpus.map((c, i) => [c, i]));
  // The NMI stack's bottom per CPU (-1: not watched) and the page below it, found once.
  const bottoms = new Map(
    cfg.cpus.map((c) => {
      const bottom = cfg.nmiStack?.(c)[0] ?? -1n;
      return [c, [bottom, bottom - 0x1000n] as const];
    }),
  );
  const exits = cfg.exitFrameOffsets.map(BigInt);
  /*
   * What the step about to run is: `before` notes it, `after` (always the next call, with the
   * same choice) uses it. It is not part of the state (no key, no copy per step); one scratch
   * record per monitor, since the engine never nests a choice inside another.
   */
  const pending = { set: false, rip: 0n, iretFrame: undefined as bigint | undefined, ret: false, atHandlerStart: false };
  // What `after` returns, reused (the engine reads it at once).
  const found: Finding[] = [];
  const out: { state: NmiTrackState; readonly findings: Finding[] } = { state: { cpus: [] }, findings: found };
  return {
    names: [NMI_INVARIANTS.transparent, NMI_INVARIANTS.once, NMI_INVARIANTS.returnFrame, NMI_INVARIANTS.stack],
    reads: cfg.cpus,
    init: (m) => ({ cpus: cfg.cpus.map((c) => ({ active: [], owed: 0, delivered: m.cpus[c]!.nmiCounters.delivered, windows: 0 })) }),
    before(m, choice, s) {
      pending.set = false;
      if (choice.kind !== 'step' || !index.has(choice.cpu)) return s;
      const c = m.cpus[choice.cpu]!;
      const rip = c.rip;
      pending.set = true;
      pending.rip = rip;
      pending.iretFrame = isIret(m, rip) ? c.rsp : undefined;
      pending.ret = cfg.retReturns === true && isRet(m, rip);
      pending.atHandlerStart = rip === cfg.handlerStart;
      return s;
    },
    after(m, choice, s) {
      const i = choice.kind === 'step' ? index.get(choice.cpu) : undefined;
      const pre = pending.set ? pending : undefined;
      pending.set = false;
      // Nothing happened to a tracked CPU: the same state (the engine then keeps its monitor array and key).
      out.state = s;
      if (found.length !== 0) found.length = 0;
      if (i === undefined) return out;
      const track = step(m, choice, s.cpus[i]!, pre, cfg, exits, bottoms.get(choice.cpu)!, found);
      if (track !== s.cpus[i]) out.state = { cpus: s.cpus.map((t, k) => (k === i ? track : t)) };
      return out;
    },
    final(_m, s) {
      const out: Finding[] = [];
      s.cpus.forEach((t, i) => {
        if (t.owed > 0 && !t.active.some((a) => a.kind === 'NMI')) out.push({ invariant: NMI_INVARIANTS.once, detail: `CPU ${cfg.cpus[i]}: ${t.owed} NMI(s) delivered and never handled` });
      });
      return out;
    },
    key: (s) => s.cpus.map((t) => `${t.owed},${t.delivered},${t.windows}:${t.active.map((x) => `${x.h1.toString(36)}.${x.h2.toString(36)}`).join(';')}`).join('/'),
    digest: (s, d) => {
      const h = new Lanes();
      for (const t of s.cpus) {
        h.word(t.owed);
        h.word(t.delivered);
        h.word(t.windows);
        h.word(t.active.length);
        for (const x of t.active) {
          h.word(x.h1);
          h.word(x.h2);
        }
      }
      h.finish(d);
    },
  };
}

/** A cached test of the first two bytes of an instruction. */
function opcodeAt(test: (b: Uint8Array) => boolean): (m: Machine, rip: bigint) => boolean {
  const seen = new Map<bigint, boolean>();
  return (m, rip) => {
    let v = seen.get(rip);
    if (v === undefined) {
      try {
        v = test(m.readBytes(rip, 2));
      } catch {
        v = false;
      }
      seen.set(rip, v);
    }
    return v;
  };
}

const KINDS = { NMI: 1, '#BP': 2, '#PF': 3 } as const;
const digestOut = new Int32Array(2);

/** A context's fields as 64 bits (what the text key of every field was, as a digest), in `digestOut`. */
function contextDigest(x: Omit<Context, 'h1' | 'h2'>): void {
  const h = new Lanes();
  h.word(KINDS[x.kind]);
  h.big(x.frame);
  h.big(x.rip);
  h.big(x.cs);
  h.big(x.rflags);
  h.big(x.rsp);
  h.big(x.ss);
  h.big(x.gs);
  h.big(x.kernelGs);
  h.big(x.fs);
  h.word(x.regs.length);
  for (const v of x.regs) h.big(v);
  h.finish(digestOut);
}

function step(m: Machine, choice: Choice, t: CpuTrack, pre: Pending | undefined, cfg: NmiMonitorConfig, exits: readonly bigint[], stack: readonly [bigint, bigint], findings: Finding[]): CpuTrack {
  const cpu = m.cpus[choice.cpu]!;
  const delivered = cpu.nmiCounters.delivered;
  let next = t;
  if (delivered !== t.delivered) {
    next = { ...t, delivered, owed: t.owed + 1, active: [...t.active, captureContext(m, choice.cpu, 'NMI', false, cfg.wordSize)] };
  } else if (pre?.iretFrame !== undefined) {
    next = iret(m, choice.cpu, next, pre.iretFrame, cfg, exits, findings);
  } else if (pre?.ret) {
    next = retReturn(m, choice.cpu, next, cfg, findings);
  } else if (pre) {
    if (pre.atHandlerStart) {
      if (t.owed === 0) findings.push({ invariant: NMI_INVARIANTS.once, detail: `CPU ${choice.cpu}: the handler ran again with no NMI left to handle (an NMI handled twice)` });
      next = { ...next, owed: 0 };
    }
    const rip = cpu.rip;
    if (pre.rip !== rip && (rip === cfg.exceptionEntries.breakpoint || rip === cfg.exceptionEntries.pageFault)) {
      // A #BP or #PF was delivered (#PF pushes an error code below its frame).
      const pf = rip === cfg.exceptionEntries.pageFault;
      next = { ...next, active: [...next.active, captureContext(m, choice.cpu, pf ? '#PF' : '#BP', pf, cfg.wordSize)] };
    }
  }
  const [bottom, below] = stack;
  if (bottom < 0n) return next;
  const rsp = cpu.rsp;
  if (rsp < bottom && rsp >= below) findings.push({ invariant: NMI_INVARIANTS.stack, detail: `CPU ${choice.cpu}: RSP ${hex(rsp)} is below the NMI stack's bottom ${hex(bottom)}` });
  return next;
}

/**
 * The frame the CPU just pushed (an error code first for #PF). x86_64 always pushes SS:RSP;
 * i386 only on a privilege change, else the interrupted ESP is just above the frame.
 */
function captureContext(m: Machine, cpu: number, kind: Context['kind'], errorCode: boolean, w: 4 | 8): Context {
  const c = m.cpus[cpu]!;
  const bytes = BigInt(w);
  const frame = c.rsp + (errorCode ? bytes : 0n);
  const head = words(m.readBytes(frame, 3 * w));
  const cs = frameWord(head, 1, w);
  const full = w === 8 || (cs & 3n) !== BigInt(c.cpl);
  // SS:RSP only where the CPU pushed them (the words above an i386 same-privilege frame may be unmapped).
  const tail = full ? words(m.readBytes(frame + 3n * bytes, 2 * w)) : undefined;
  const names = w === 8 ? GPRS64 : GPRS32;
  const regs = new Array<bigint>(names.length);
  for (let i = 0; i < names.length; i++) regs[i] = c.reg(names[i]!);
  const x = {
    kind,
    frame,
    rip: frameWord(head, 0, w),
    cs,
    rflags: frameWord(head, 2, w),
    rsp: tail ? frameWord(tail, 0, w) : frame + 3n * bytes,
    ss: tail ? frameWord(tail, 1, w) : BigInt(c.ss),
    regs,
    gs: c.gsBase,
    kernelGs: c.kernelGsBase,
    fs: c.fsBase,
    h1: 0,
    h2: 0,
  };
  contextDigest(x);
  x.h1 = digestOut[0]!;
  x.h2 = digestOut[1]!;
  return x;
}

function words(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** Word `k` of little-endian words of `w` bytes. */
function frameWord(v: DataView, k: number, w: 4 | 8): bigint {
  return w === 8 ? v.getBigUint64(8 * k, true) : BigInt(v.getUint32(4 * k, true));
}

/** An iret popped the frame at `frame`: is it an NMI's (or exception's) final return, and did it go home intact? */
function iret(m: Machine, cpu: number, t: CpuTrack, frame: bigint, cfg: NmiMonitorConfig, exits: readonly bigint[], findings: Finding[]): CpuTrack {
  const c = m.cpus[cpu]!;
  for (let k = t.active.length - 1; k >= 0; k--) {
    const x = t.active[k]!;
    const nmi = x.kind === 'NMI';
    if (nmi ? !exits.some((off) => x.frame + off === frame) : x.frame !== frame) continue;
    const rip = c.rip;
    const rsp = c.rsp;
    const atHome = resumes(m, x, rip, rsp, BigInt(c.cs), cfg);
    if (!atHome) {
      if (nmi && cfg.trampolines.includes(rip)) return t;
      findings.push({
        invariant: NMI_INVARIANTS.returnFrame,
        detail: `CPU ${cpu}: ${x.kind} ${k + 1} of ${t.active.length} returned to ${cfg.symbolize(rip)} RSP ${hex(rsp)}, not to ${cfg.symbolize(x.rip)} RSP ${hex(x.rsp)} that it interrupted: its frame was overwritten`,
      });
      return leave(t, k, findings, cpu);
    }
    return home(m, cpu, t, k, cfg, findings);
  }
  return t;
}

/** A `ret` brought the CPU back to the innermost context (an NMI-safe exception exit, or a nested NMI returning without iret). */
function retReturn(m: Machine, cpu: number, t: CpuTrack, cfg: NmiMonitorConfig, findings: Finding[]): CpuTrack {
  const k = t.active.length - 1;
  const x = t.active[k];
  const c = m.cpus[cpu]!;
  if (!x || !resumes(m, x, c.rip, c.rsp, BigInt(c.cs), cfg)) return t;
  return home(m, cpu, t, k, cfg, findings);
}

/**
 * Whether a return to (rip, rsp, cs) resumes context `x`. A kprobe's #BP resumes in the probe's
 * out-of-line copy, and a #PF at an exception-table instruction at its fixup: for those, the
 * stack and CS must match.
 */
function resumes(m: Machine, x: Context, rip: bigint, rsp: bigint, cs: bigint, cfg: NmiMonitorConfig): boolean {
  const ripOk = x.kind === '#BP' || rip === x.rip || (x.kind === '#PF' && rip === cfg.exceptionFixup?.(m, x.rip));
  return ripOk && rsp === x.rsp && cs === x.cs;
}

/** Context `k` got back where it was: an NMI must have left every register as it found it. */
function home(m: Machine, cpu: number, t: CpuTrack, k: number, cfg: NmiMonitorConfig, findings: Finding[]): CpuTrack {
  const x = t.active[k]!;
  if (x.kind === 'NMI') {
    const diff = differences(m, cpu, x);
    if (diff.length > 0) findings.push({ invariant: NMI_INVARIANTS.transparent, detail: `CPU ${cpu}: back at ${cfg.symbolize(x.rip)} after NMI ${k + 1} with ${diff.join(', ')}` });
  }
  return leave(t, k, findings, cpu);
}

/** Drops context `k` and the ones above it; the outermost NMI's return closes a window, and must leave no NMI owed. */
function leave(t: CpuTrack, k: number, findings: Finding[], cpu: number): CpuTrack {
  const x = t.active[k]!;
  const active = t.active.slice(0, k);
  if (x.kind !== 'NMI') return { ...t, active };
  const closed = !active.some((a) => a.kind === 'NMI');
  if (closed && t.owed > 0) findings.push({ invariant: NMI_INVARIANTS.once, detail: `CPU ${cpu}: back outside NMI context with ${t.owed} NMI(s) delivered after the last handler run: lost` });
  return { ...t, active, windows: t.windows + (closed ? 1 : 0) };
}

function differences(m: Machine, cpu: number, x: Context): string[] {
  const c = m.cpus[cpu]!;
  const out: string[] = [];
  (x.regs.length === GPRS64.length ? GPRS64 : GPRS32).forEach((r, i) => {
    const v = c.reg(r);
    if (v !== x.regs[i]) out.push(`${r} ${hex(v)} (was ${hex(x.regs[i]!)})`);
  });
  if (c.rflags !== x.rflags) out.push(`rflags ${hex(c.rflags)} (was ${hex(x.rflags)})`);
  if (BigInt(c.ss) !== x.ss) out.push(`ss ${hex(BigInt(c.ss))} (was ${hex(x.ss)})`);
  if (c.gsBase !== x.gs) out.push(`gs base ${hex(c.gsBase)} (was ${hex(x.gs)})`);
  if (c.kernelGsBase !== x.kernelGs) out.push(`kernel gs base ${hex(c.kernelGsBase)} (was ${hex(x.kernelGs)})`);
  if (c.fsBase !== x.fs) out.push(`fs base ${hex(c.fsBase)} (was ${hex(x.fs)})`);
  return out;
}

/** True once every tracked CPU's NMI window has closed (it came back from its outermost NMI) and nothing is owed or pending. */
export function windowClosed(m: Machine, s: NmiTrackState, cpus: readonly number[]): boolean {
  return s.cpus.every((t, i) => t.windows > 0 && t.active.length === 0 && t.owed === 0 && !m.cpus[cpus[i]!]!.nmiPending);
}

/** No NMI has reached a tracked CPU on this path yet (none delivered, none pending). */
export function noNmiYet(m: Machine, s: NmiTrackState, cpus: readonly number[]): boolean {
  return s.cpus.every((t, i) => t.windows === 0 && t.active.length === 0 && !m.cpus[cpus[i]!]!.nmiPending);
}
