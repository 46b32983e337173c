import type { MachineCore } from './core.js';
import type { CpuState, FaultRecord } from './cpu.js';

/** A CPU's fields that are not numbers (null in a `CpusImage` when all are empty). */
interface CpuObjects {
  readonly ipiAt: readonly number[];
  readonly ipiWhat: readonly number[];
  readonly lastFault: FaultRecord | null;
  readonly deathReason: string;
  readonly fReason: string;
}

/**
 * Every CPU's state at one moment, in one allocation: the machine-wide state buffer, then the
 * events buffer (`cpu-slots.ts`), then the plain numeric fields of `CpuState` (`PLAIN`
 * float64s per CPU, see `savePlain`); and per CPU the fields that are not numbers. The TLBs
 * and the cached code page are left out (they are flushed on restore).
 */
export interface CpusImage {
  readonly bytes: Uint8Array;
  readonly objects: readonly (CpuObjects | null)[];
}

const PLAIN = 22;

/** Copies the numeric fields `CpuState` keeps outside the buffer (booleans as 0/1) to `a[o..o+PLAIN)`. */
function savePlain(c: CpuState, a: Float64Array, o: number): void {
  a[o] = c.state;
  a[o + 1] = c.nmiPending ? 1 : 0;
  a[o + 2] = c.nmiBlocked ? 1 : 0;
  a[o + 3] = c.irqCount;
  a[o + 4] = c.fl;
  a[o + 5] = c.cpl;
  a[o + 6] = c.ipLo;
  a[o + 7] = c.ipHi;
  a[o + 8] = c.cf;
  a[o + 9] = c.pf;
  a[o + 10] = c.af;
  a[o + 11] = c.zf;
  a[o + 12] = c.sf;
  a[o + 13] = c.of;
  a[o + 14] = c.vh;
  a[o + 15] = c.eaLo;
  a[o + 16] = c.eaHi;
  a[o + 17] = c.rh;
  a[o + 18] = c.cycles;
  a[o + 19] = c.instructions;
  a[o + 20] = c.nextEvent;
  a[o + 21] = c.serialSeq;
}

function loadPlain(c: CpuState, a: Float64Array, o: number): void {
  c.state = a[o]!;
  c.nmiPending = a[o + 1] === 1;
  c.nmiBlocked = a[o + 2] === 1;
  c.irqCount = a[o + 3]!;
  c.fl = a[o + 4]!;
  c.cpl = a[o + 5]!;
  c.ipLo = a[o + 6]!;
  c.ipHi = a[o + 7]!;
  c.cf = a[o + 8]!;
  c.pf = a[o + 9]!;
  c.af = a[o + 10]!;
  c.zf = a[o + 11]!;
  c.sf = a[o + 12]!;
  c.of = a[o + 13]!;
  c.vh = a[o + 14]!;
  c.eaLo = a[o + 15]!;
  c.eaHi = a[o + 16]!;
  c.rh = a[o + 17]!;
  c.cycles = a[o + 18]!;
  c.instructions = a[o + 19]!;
  c.nextEvent = a[o + 20]!;
  c.serialSeq = a[o + 21]!;
}

function saveObjects(c: CpuState): CpuObjects | null {
  if (c.ipiAt.length === 0 && c.lastFault === null && c.deathReason === '' && c.fReason === '') return null;
  return { ipiAt: c.ipiAt.slice(), ipiWhat: c.ipiWhat.slice(), lastFault: c.lastFault, deathReason: c.deathReason, fReason: c.fReason };
}

function loadObjects(c: CpuState, o: CpuObjects | null): void {
  c.ipiAt.length = 0;
  c.ipiWhat.length = 0;
  if (o === null) {
    c.lastFault = null;
    c.deathReason = '';
    c.fReason = '';
    return;
  }
  c.ipiAt.push(...o.ipiAt);
  c.ipiWhat.push(...o.ipiWhat);
  c.lastFault = o.lastFault;
  c.deathReason = o.deathReason;
  c.fReason = o.fReason;
}

/** Copies all CPUs: the two buffers and the plain numeric fields into one new buffer, and the few fields that are objects or strings. */
export function saveCpus(core: MachineCore): CpusImage {
  const { state, events } = core.cpuFile;
  const cpus = core.cpus;
  // Both buffers' lengths are multiples of 8, so the plain fields start float64-aligned.
  const bytes = new Uint8Array(state.length + events.length + cpus.length * PLAIN * 8);
  bytes.set(state);
  bytes.set(events, state.length);
  const plain = new Float64Array(bytes.buffer, state.length + events.length);
  for (let i = 0; i < cpus.length; i++) savePlain(cpus[i]!, plain, i * PLAIN);
  return { bytes, objects: cpus.map(saveObjects) };
}

/** Puts every CPU back as saved and flushes their TLBs. */
export function loadCpus(core: MachineCore, img: CpusImage): void {
  const { state, events } = core.cpuFile;
  const { bytes, objects } = img;
  state.set(bytes.subarray(0, state.length));
  events.set(bytes.subarray(state.length, state.length + events.length));
  const plain = new Float64Array(bytes.buffer, bytes.byteOffset + state.length + events.length, core.cpus.length * PLAIN);
  const cpus = core.cpus;
  for (let i = 0; i < cpus.length; i++) {
    const c = cpus[i]!;
    loadPlain(c, plain, i * PLAIN);
    loadObjects(c, objects[i] ?? null);
    c.flushTlb();
  }
}

/**
 * The words `hashCpu` mixes, gathered first so the mixing runs in one loop on locals (a CPU has
 * at most 256 pending vectors and a few IPIs in flight). Every word is an integer, so keeping it
 * as int32 changes no lane: a ^ x reads it as int32 anyway, and b + x differs by a multiple of 2³²
 * before imul takes it modulo 2³².
 */
let words = new Int32Array(512);

/**
 * Mixes a CPU's architectural state into two 32-bit lanes. Each word x goes through
 * a = imul(a ^ x, 0x85ebca6b), a ^= a >>> 13, b = imul(b + x, 0xc2b2ae35) ^ (b >>> 15).
 */
export function hashCpu(c: CpuState, out: Int32Array): void {
  const need = 80 + (c.irqCount > 0 ? 256 : 0) + 2 * c.ipiAt.length;
  if (words.length < need) words = new Int32Array(2 * need);
  const w = words;
  const lo = c.lo;
  const hi = c.hi;
  let n = 0;
  for (let i = 0; i < 16; i++) {
    w[n++] = lo[i]!;
    w[n++] = hi[i]!;
  }
  w[n++] = c.ipLo;
  w[n++] = c.ipHi;
  w[n++] = c.rflags();
  w[n++] = c.cpl | (c.cs << 2) | (c.ss << 18);
  w[n++] = c.gsLo;
  w[n++] = c.gsHi;
  w[n++] = c.kgsLo;
  w[n++] = c.kgsHi;
  w[n++] = c.fsLo;
  w[n++] = c.fsHi;
  w[n++] = c.cr2Lo;
  w[n++] = c.cr2Hi;
  w[n++] = c.cr3;
  w[n++] = c.idtLo;
  w[n++] = c.idtHi;
  w[n++] = c.idtLimit;
  if (c.tssInMemory) {
    w[n++] = c.trLo;
    w[n++] = c.trHi;
  }
  w[n++] = c.state | (c.nmiBlocked ? 4 : 0) | (c.nmiPending ? 8 : 0);
  w[n++] = c.irqCount;
  if (c.irqCount > 0) for (let v = 0; v < 256; v++) if (c.irq[v]) w[n++] = v;
  w[n++] = c.cycles | 0;
  w[n++] = (c.cycles / 4294967296) | 0;
  w[n++] = c.serialSeq;
  for (let i = 0; i < c.ipiAt.length; i++) {
    w[n++] = c.ipiAt[i]! | 0;
    w[n++] = c.ipiWhat[i]!;
  }
  let a = Math.imul(c.id + 1, 0x9e3779b1);
  let b = Math.imul(c.id + 7, 0x85ebca6b);
  for (let i = 0; i < n; i++) {
    const x = w[i]!;
    a = Math.imul(a ^ x, 0x85ebca6b);
    a ^= a >>> 13;
    b = Math.imul((b + x) | 0, 0xc2b2ae35) ^ (b >>> 15);
  }
  out[0] = a;
  out[1] = b;
}
