import { MSR } from './arch.js';
import type { CpuState } from './cpu.js';
import { sendIpi } from './events.js';

/**
 * One row per model-specific register the machine implements: how `rdmsr` reads it and how
 * `wrmsr` writes it. A missing half means the access raises #GP, as it does on hardware for
 * a read-only (TSC here, the x2APIC id) or write-only (ICR, EOI) register.
 */
interface MsrRow {
  readonly read?: { lo(c: CpuState): number; hi(c: CpuState): number };
  readonly write?: (c: CpuState, lo: number, hi: number) => void;
}

const zero = (): number => 0;

export const MSR_TABLE: ReadonlyMap<number, MsrRow> = new Map<number, MsrRow>([
  [MSR.GS_BASE, { read: { lo: (c) => c.gsLo, hi: (c) => c.gsHi }, write: (c, lo, hi) => { c.gsLo = lo; c.gsHi = hi; } }],
  [MSR.KERNEL_GS_BASE, { read: { lo: (c) => c.kgsLo, hi: (c) => c.kgsHi }, write: (c, lo, hi) => { c.kgsLo = lo; c.kgsHi = hi; } }],
  [MSR.FS_BASE, { read: { lo: (c) => c.fsLo, hi: (c) => c.fsHi }, write: (c, lo, hi) => { c.fsLo = lo; c.fsHi = hi; } }],
  [MSR.STAR, { read: { lo: (c) => c.starLo, hi: (c) => c.starHi }, write: (c, lo, hi) => { c.starLo = lo; c.starHi = hi; } }],
  [MSR.LSTAR, { read: { lo: (c) => c.lstarLo, hi: (c) => c.lstarHi }, write: (c, lo, hi) => { c.lstarLo = lo; c.lstarHi = hi; } }],
  [MSR.FMASK, { read: { lo: (c) => c.fmask, hi: zero }, write: (c, lo) => { c.fmask = lo; } }],
  [MSR.EFER, { read: { lo: (c) => c.efer, hi: zero }, write: (c, lo) => { c.efer = lo; } }],
  // The time-stamp counter is this CPU's cycle counter.
  [MSR.TSC, { read: { lo: (c) => c.cycles >>> 0, hi: (c) => Math.floor(c.cycles / 4294967296) >>> 0 } }],
  [MSR.X2APIC_ID, { read: { lo: (c) => c.id, hi: zero } }],
  [MSR.X2APIC_ICR, { write: (c, lo, hi) => { sendIpi(c, lo, hi, true); } }],
  [MSR.X2APIC_EOI, { write: () => undefined }],
]);
