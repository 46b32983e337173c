import type { Arch } from '@kernsim/cpu-core';
import { runPatch } from './run.js';
import type { StopMachineTerms } from './run.js';

/**
 * The clock the µs figures assume: the 2 GHz Sandy Bridge-class part cpu-core's modelled
 * timing describes (its IPI latency of 2000 cycles is "≈ 1 µs at 2 GHz").
 */
export const CLOCK_GHZ = 2;

export function cyclesToMicros(cycles: number, ghz = CLOCK_GHZ): number {
  return cycles / (ghz * 1000);
}

export interface CostCurveRow {
  readonly cpus: number;
  readonly method: 'stop-machine' | 'breakpoint';
  readonly completed: boolean;
  readonly patchCycles: number;
  readonly patchMicros: number;
  /** Cycles the other CPUs spent stopped, summed and on the worst one. */
  readonly stallTotal: number;
  readonly stallWorst: number;
  readonly ipisSent: number;
  /** From the machine's local APICs. */
  readonly ipisDelivered: number;
  /** stop_machine only: where its time went. */
  readonly terms: StopMachineTerms | undefined;
}

export interface CostCurveOptions {
  readonly cpuCounts: readonly number[];
  readonly methods?: readonly ('stop-machine' | 'breakpoint')[];
  /** ftrace sites patched in one go (default 4). */
  readonly sites?: number;
  readonly arch?: Arch;
  readonly timing?: 'flat' | 'modelled';
  /** Step budget of each run (`PatchConfig.maxSteps`; its default is 400 × CPUs²; the bench passes 3 G for 4096 CPUs). */
  readonly maxSteps?: number;
}

/**
 * stop_machine's and the breakpoint method's cost per CPU count: one quiet ftrace patch
 * each (every other CPU running traced code), under the modelled timing by default.
 */
export function costCurve(options: CostCurveOptions): CostCurveRow[] {
  const methods = options.methods ?? (['stop-machine', 'breakpoint'] as const);
  const out: CostCurveRow[] = [];
  for (const cpus of options.cpuCounts) {
    for (const method of methods) {
      const r = runPatch({ method, cpus, sites: options.sites ?? 4, settle: 1, arch: options.arch ?? 'x86_64', timing: options.timing ?? 'modelled', ...(options.maxSteps === undefined ? {} : { maxSteps: options.maxSteps }) });
      out.push({
        cpus,
        method,
        completed: r.completed,
        patchCycles: r.patchCycles,
        patchMicros: cyclesToMicros(r.patchCycles),
        stallTotal: r.stallTotal,
        stallWorst: r.stallWorst,
        ipisSent: r.ipisSent,
        ipisDelivered: r.ipisDelivered,
        terms: r.stopMachineTerms,
      });
    }
  }
  return out;
}
