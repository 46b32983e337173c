import type { Machine } from '@kernsim/cpu-core';
import type { BuiltModel, EventSource, Invariant, SearchOptions } from '@kernsim/cpu-core/explore';
import { PERCPU, PMU } from '@kernsim/kernel/entry-kit';
import type { Kernel } from '@kernsim/kernel';
import { NmiX86Error } from '../errors.js';
import { NMI_INVARIANTS, nmiMonitor, noNmiYet, windowClosed } from './nmi-monitor.js';
import type { NmiTrackState } from './nmi-monitor.js';
import { bootAtStart } from './starts.js';
import type { StartId } from './starts.js';
import { selectEntry } from './variants.js';
import type { EntryChoice } from './variants.js';

/** Everything that defines one search, as JSON (a worker rebuilds the model from it). */
export interface NmiModelParams extends EntryChoice {
  readonly start: StartId;
  /** Sampler NMIs the search may raise at CPU 0 along one path (besides a start's own first NMI). */
  readonly nmis: number;
  readonly maxDepth: number;
  readonly maxStates?: number;
  /** Partial-order reduction (default on; with one CPU it has nothing to reorder). */
  readonly reduction?: boolean;
}

export interface NmiModel extends BuiltModel {
  readonly kernel: Kernel;
}

const TRACKED = [0] as const;

/** Boots the kernel with the chosen entry at the start state and builds the search: the sampler NMI source, the NMI invariants, the end of the window. */
export function buildNmiModel(p: NmiModelParams): NmiModel {
  if (!Number.isInteger(p.nmis) || p.nmis < 0 || p.nmis > 8) throw new NmiX86Error('KERNSIM_NMI64_BAD_EXPLORE', `nmis must be an integer from 0 to 8, got ${p.nmis}`);
  if (!Number.isInteger(p.maxDepth) || p.maxDepth < 1) throw new NmiX86Error('KERNSIM_NMI64_BAD_EXPLORE', `maxDepth must be a positive integer, got ${p.maxDepth}`);
  const entry = selectEntry(p);
  const { kernel: k, quietEnd } = bootAtStart(entry, p.start);
  const m = k.machine;
  const w = m.bitness === 64 ? 8 : 4;
  const sampler: EventSource = { name: 'nmi', kind: 'nmi', budget: p.nmis, cpus: TRACKED, fire: raiseSampler(k) };
  const monitor = nmiMonitor({
    cpus: TRACKED,
    exitFrameOffsets: entry.exitFrameOffsets,
    trampolines: entry.trampolines.map((t) => k.symbol(t)),
    handlerStart: k.symbol('nmi_handler_start'),
    exceptionEntries: { breakpoint: k.symbol('int3'), pageFault: k.symbol('page_fault') },
    exceptionFixup: (mm, rip) => exceptionFixup(mm, k.symbol('ex_table'), w, rip),
    ...(w === 8 ? { nmiStack: (cpu: number) => [k.nmiStackTop(cpu) - 0x1000n, k.nmiStackTop(cpu)] as const } : {}),
    wordSize: w,
    retReturns: entry.returnsWithoutIret ?? false,
    symbolize: (a) => k.symbols.symbolize(a) ?? `0x${a.toString(16)}`,
  });
  // Checked at every state: the addresses are computed once.
  const depthAt = TRACKED.map((cpu) => [cpu, k.percpuBase(cpu) + BigInt(PERCPU.nmiDepth * w)] as const);
  const notNested: Invariant = {
    name: NMI_INVARIANTS.notNested,
    reads: [],
    memoryOnly: true,
    check: (mm) => {
      for (const [cpu, at] of depthAt) {
        // The bytes, not a bigint: this runs at every state, and a depth of 0 or 1 is the rule.
        const b = mm.readBytes(at, w);
        let high = 0;
        for (let i = 1; i < w; i++) high |= b[i]!;
        if (high !== 0 || b[0]! > 1) return `CPU ${cpu}: the NMI handler body is running ${mm.read(at, w)} deep`;
      }
      return undefined;
    },
  };
  const options: SearchOptions = {
    maxDepth: p.maxDepth,
    events: [sampler],
    monitors: [monitor],
    invariants: [notNested],
    fatalSymbols: ['die', 'panic_halt'],
    done: (mm: Machine, mons) => {
      const s = mons[0] as NmiTrackState;
      return (windowClosed(mm, s, TRACKED) || noNmiYet(mm, s, TRACKED)) && quietEnd(mm);
    },
    reduction: p.reduction ?? true,
    ...(p.maxStates !== undefined ? { maxStates: p.maxStates } : {}),
  };
  return { machine: m, options, kernel: k };
}

/** The PMU's sampling counter overflows: its status bit, then its NMI (as Kernel.raisePmuNmi, here on the machine the search drives). */
function raiseSampler(k: Kernel): (m: Machine, cpu: number) => void {
  const w = k.machine.bitness === 64 ? 8 : 4;
  const status = new Map<number, bigint>(TRACKED.map((cpu) => [cpu, k.percpuBase(cpu) + BigInt(PERCPU.pmuStatus * w)]));
  // The status word's bytes with the sampler's bit set (bytes, not a bigint: this runs at every NMI the search raises).
  const bit = BigInt(PMU.sampler);
  const mask = Array.from({ length: w }, (_, i) => Number((bit >> BigInt(8 * i)) & 0xffn));
  return (m, cpu) => {
    const a = status.get(cpu) ?? k.percpuBase(cpu) + BigInt(PERCPU.pmuStatus * w);
    const b = m.readBytes(a, w);
    for (let i = 0; i < w; i++) b[i]! |= mask[i]!;
    m.writeBytes(a, b);
    m.injectNmi(cpu);
  };
}

/** Looks `rip` up in the kernel's exception table as the #PF handler does: a count, then (instruction, fixup) pairs. */
function exceptionFixup(m: Machine, table: bigint, w: 4 | 8, rip: bigint): bigint | undefined {
  const bytes = BigInt(w);
  const count = Math.min(Number(m.read(table, w)), 64);
  for (let i = 0; i < count; i++) {
    const at = table + bytes * BigInt(1 + 2 * i);
    if (m.read(at, w) === rip) return m.read(at + bytes, w);
  }
  return undefined;
}
