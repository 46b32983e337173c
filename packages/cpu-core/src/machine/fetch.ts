import { Decoder, DecoderError, DecoderOptions, FlowControl } from 'iced-x86';
import { fromLoHi } from './arch.js';
import { fault, pageFrame, translate } from './bus.js';
import { compile } from './compile.js';
import type { CpuState } from './cpu.js';
import { F_CODE, F_XWATCH } from './frame.js';
import type { Frame } from './frame.js';
import type { DecodedOp } from './op.js';
import { FAULT } from './op.js';
import { instructionCost } from './timing/model.js';

const fetchBuf = new Uint8Array(15);
const oldAtSerial = new Int16Array(15);
const byOther = new Uint8Array(15);

/** Gathers up to 15 bytes at RIP (the second page only if the instruction could reach it). */
function gather(c: CpuState, f: Frame, off: number): { n: number; nextFault: boolean } {
  const first = Math.min(15, 4096 - off);
  fetchBuf.set(f.data.subarray(off, off + first));
  if (first === 15) return { n: 15, nextFault: false };
  const lo = (c.ipLo + first) >>> 0;
  const hi = lo < c.ipLo ? (c.ipHi + 1) >>> 0 : c.ipHi;
  try {
    const g = translate(c, lo, hi, 2);
    fetchBuf.set(g.data.subarray(0, 15 - first), first);
    return { n: 15, nextFault: false };
  } catch (e) {
    if (e !== FAULT) throw e;
    return { n: first, nextFault: true };
  }
}

function decode(c: CpuState, f: Frame, off: number): { op: DecodedOp; cacheable: boolean } {
  const { n, nextFault } = gather(c, f, off);
  const bytes = fetchBuf.slice(0, n);
  const d = new Decoder(c.m.info.bitness, bytes, DecoderOptions.None);
  d.ip = fromLoHi(c.ipLo, c.ipHi);
  const instr = d.decode();
  const err = d.lastError;
  try {
    if (err === DecoderError.NoMoreBytes && nextFault) {
      // Re-run the translation of the next page to raise its #PF with the right CR2.
      const lo = (c.ipLo + n) >>> 0;
      translate(c, lo, lo < c.ipLo ? (c.ipHi + 1) >>> 0 : c.ipHi, 2);
    }
    const compiled = compile(instr, c.m.is64);
    const next = !instr.isInvalid && instr.flowControl === FlowControl.Next;
    const op: DecodedOp = { exec: compiled.exec, len: compiled.len, cost: instructionCost(instr, c.m.timing), next };
    return { op, cacheable: off + op.len <= 4096 };
  } finally {
    instr.free();
    d.free();
  }
}

/**
 * Finds (decoding and caching if needed) the instruction at RIP and applies the cross-modifying-code rule.
 * Kept small for V8 to inline into the step loop (exec.ts, `step`): what is rare is called out.
 */
export function fetchOp(c: CpuState): DecodedOp {
  const lo = c.ipLo;
  const hi = c.ipHi;
  const f = c.codeVpn === hi * 1048576 + (lo >>> 12) ? c.codeFrame! : enterCodePage(c, lo, hi);
  const off = lo & 0xfff;
  const op = f.ops?.[off] ?? decodeAt(c, f, off);
  if (f.lastWriteSeq > c.serialSeq) xmcCheck(c, f, off, op.len);
  if ((f.flags & F_XWATCH) !== 0) execWatch(c, f, off, op.len);
  return op;
}

/** RIP left the cached code page: the new page becomes the cached one. */
function enterCodePage(c: CpuState, lo: number, hi: number): Frame {
  const f = pageFrame(c, lo, hi, 2);
  c.codeVpn = hi * 1048576 + (lo >>> 12);
  c.codeFrame = f;
  return f;
}

/** Not in the decode cache: decode it, and cache it unless it runs past the page. */
function decodeAt(c: CpuState, f: Frame, off: number): DecodedOp {
  if (f.ops === null) {
    f.ops = new Array<DecodedOp | undefined>(4096).fill(undefined);
    f.flags |= F_CODE;
  }
  const r = decode(c, f, off);
  if (r.cacheable) f.ops[off] = r.op;
  return r.op;
}

function execWatch(c: CpuState, f: Frame, off: number, len: number): void {
  const phys = f.pfn * 4096 + off;
  for (const w of c.m.execWatches) {
    if (phys >= w.phys && phys < w.phys + w.len) w.callback(c.id, fromLoHi(c.ipLo, c.ipHi), f.data.slice(off, Math.min(off + len, 4096)));
  }
}

/**
 * The cross-modifying-code rule: bytes of this instruction that another CPU changed since this
 * CPU's last serializing event raise #GP, unless the only change is the first byte to or from int3.
 * With `crossModifyingCode: 'execute'` the CPU runs the bytes as they are instead (the SDM
 * leaves the outcome undefined; executing a half-written instruction is the other one it allows).
 */
function xmcCheck(c: CpuState, f: Frame, off: number, len: number): void {
  const s = c.serialSeq;
  const end = Math.min(off + len, 4096);
  oldAtSerial.fill(-1);
  byOther.fill(0);
  for (let i = f.logSeq.length - 1; i >= 0 && f.logSeq[i]! > s; i--) {
    const o = f.logOff[i]!;
    if (o < off || o >= end) continue;
    oldAtSerial[o - off] = f.logOld[i]!;
    if (f.logCpu[i] !== c.id) byOther[o - off] = 1;
  }
  let first = false;
  for (let k = 0; k < end - off; k++) {
    if (byOther[k] === 0 || oldAtSerial[k] === f.data[off + k]) continue;
    if (k === 0) first = true;
    else {
      xmcFault(c, f, off, end, `byte ${k} of the instruction changed by another CPU since this CPU last serialized`);
      return;
    }
  }
  if (first && oldAtSerial[0] !== 0xcc && f.data[off] !== 0xcc) {
    xmcFault(c, f, off, end, 'first byte changed by another CPU, not to or from int3');
  }
}

const hex2 = (b: number): string => b.toString(16).padStart(2, '0');

function xmcFault(c: CpuState, f: Frame, off: number, end: number, why: string): void {
  if (c.m.tornCode) {
    c.xmcTorn++;
    return;
  }
  const seen: string[] = [];
  const now: string[] = [];
  for (let k = 0; k < end - off; k++) {
    const cur = f.data[off + k]!;
    seen.push(hex2(oldAtSerial[k]! >= 0 ? oldAtSerial[k]! : cur));
    now.push(hex2(cur));
  }
  c.xmcFaults++;
  fault(c, 13, 0, `cross-modified code: ${why} (this CPU saw ${seen.join(' ')}, memory has ${now.join(' ')})`);
}

export function instructionBytes(c: CpuState, len: number): Uint8Array {
  const f = c.codeFrame!;
  const off = c.ipLo & 0xfff;
  if (off + len <= 4096) return f.data.slice(off, off + len);
  gather(c, f, off);
  return fetchBuf.slice(0, len);
}
