import type { MachineCore } from './core.js';
import type { CpuState, FaultRecord } from './cpu.js';

/**
 * Every CPU's state at one moment: copies of the machine-wide state and events buffers
 * (`cpu-slots.ts`) and, per CPU, the fields that are not numbers. The TLBs and the cached
 * code page are left out (they are flushed on restore).
 */
export interface CpusImage {
  readonly state: Uint8Array;
  readonly events: Uint8Array;
  readonly ipiAt: readonly (readonly number[])[];
  readonly ipiWhat: readonly (readonly number[])[];
  readonly lastFault: readonly (FaultRecord | null)[];
  readonly deathReason: readonly string[];
  readonly fReason: readonly string[];
}

const NONE: readonly number[] = Object.freeze([]);
const copy = (a: readonly number[]): readonly number[] => (a.length === 0 ? NONE : a.slice());

/** Copies all CPUs: two buffer copies and the few per-CPU fields that are objects or strings. */
export function saveCpus(core: MachineCore): CpusImage {
  const cpus = core.cpus;
  return {
    state: core.cpuFile.state.slice(),
    events: core.cpuFile.events.slice(),
    ipiAt: cpus.map((c) => copy(c.ipiAt)),
    ipiWhat: cpus.map((c) => copy(c.ipiWhat)),
    lastFault: cpus.map((c) => c.lastFault),
    deathReason: cpus.map((c) => c.deathReason),
    fReason: cpus.map((c) => c.fReason),
  };
}

function refill(to: number[], from: readonly number[]): void {
  to.length = 0;
  for (const x of from) to.push(x);
}

/** Puts every CPU back as saved and flushes their TLBs. */
export function loadCpus(core: MachineCore, img: CpusImage): void {
  core.cpuFile.state.set(img.state);
  core.cpuFile.events.set(img.events);
  core.cpus.forEach((c: CpuState, i) => {
    refill(c.ipiAt, img.ipiAt[i]!);
    refill(c.ipiWhat, img.ipiWhat[i]!);
    c.lastFault = img.lastFault[i]!;
    c.deathReason = img.deathReason[i]!;
    c.fReason = img.fReason[i]!;
    c.flushTlb();
  });
}

let ha = 0;
let hb = 0;

function mix(x: number): void {
  ha = Math.imul(ha ^ x, 0x85ebca6b);
  ha ^= ha >>> 13;
  hb = Math.imul(hb + x, 0xc2b2ae35) ^ (hb >>> 15);
}

/** Mixes a CPU's architectural state into two 32-bit lanes. */
export function hashCpu(c: CpuState, out: Int32Array): void {
  ha = Math.imul(c.id + 1, 0x9e3779b1);
  hb = Math.imul(c.id + 7, 0x85ebca6b);
  const lo = c.lo;
  const hi = c.hi;
  for (let i = 0; i < 16; i++) {
    mix(lo[i]!);
    mix(hi[i]!);
  }
  mix(c.ipLo);
  mix(c.ipHi);
  mix(c.rflags());
  mix(c.cpl | (c.cs << 2) | (c.ss << 18));
  mix(c.gsLo);
  mix(c.gsHi);
  mix(c.kgsLo);
  mix(c.kgsHi);
  mix(c.fsLo);
  mix(c.fsHi);
  mix(c.cr2Lo);
  mix(c.cr2Hi);
  mix(c.cr3);
  mix(c.idtLo);
  mix(c.idtHi);
  mix(c.idtLimit);
  if (c.tssInMemory) {
    mix(c.trLo);
    mix(c.trHi);
  }
  mix(c.state | (c.nmiBlocked ? 4 : 0) | (c.nmiPending ? 8 : 0));
  mix(c.irqCount);
  if (c.irqCount > 0) for (let v = 0; v < 256; v++) if (c.irq[v]) mix(v);
  mix(c.cycles | 0);
  mix((c.cycles / 4294967296) | 0);
  mix(c.serialSeq);
  for (let i = 0; i < c.ipiAt.length; i++) {
    mix(c.ipiAt[i]! | 0);
    mix(c.ipiWhat[i]!);
  }
  out[0] = ha;
  out[1] = hb;
}
