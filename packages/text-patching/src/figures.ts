import type { Arch } from '@kernsim/cpu-core';
import { runPatch } from './run.js';
import type { PatchMethod, PatchUser } from './patch-config.js';
import type { PatchResult } from './run.js';

/** The CPU counts the issue asks figures for. */
export const CPU_COUNTS: readonly number[] = [2, 4, 16, 64, 256, 1024, 4096];

export type FigureVariant = 'quiet' | 'irq-off' | 'nmi';

export interface FigureRow {
  readonly method: PatchMethod;
  readonly cpus: number;
  readonly variant: FigureVariant;
  readonly completed: boolean;
  /** Simulated cycles until the patch was complete (0 when it never was). */
  readonly patchCycles: number;
  readonly stallTotal: number;
  readonly stallWorst: number;
  readonly ipisSent: number;
  readonly int3OtherCpus: number;
  readonly gpFaults: number;
  /** CPUs lost to a fault (a #GP or an unclaimed int3). */
  readonly crashedCpus: number;
}

export interface FigureOptions {
  readonly cpuCounts?: readonly number[];
  readonly methods?: readonly PatchMethod[];
  readonly variants?: readonly FigureVariant[];
  readonly user?: PatchUser;
  readonly sites?: number;
  readonly arch?: Arch;
  /** Length of the interrupts-off section of the `irq-off` variant, in cycles (default 20 000). */
  readonly irqOffCycles?: number;
  /** Round-robin turn length (see PatchConfig.quantum). */
  readonly quantum?: number;
}

function row(method: PatchMethod, cpus: number, variant: FigureVariant, r: PatchResult): FigureRow {
  return {
    method,
    cpus,
    variant,
    completed: r.completed,
    patchCycles: r.patchCycles,
    stallTotal: r.stallTotal,
    stallWorst: r.stallWorst,
    ipisSent: r.ipisSent,
    int3OtherCpus: r.int3OtherCpus,
    gpFaults: r.gpFaults,
    crashedCpus: r.perCpu.filter((c) => c.status !== 'running').length,
  };
}

/**
 * Runs every method at every CPU count: quietly, with the last CPU in a long
 * interrupts-off section, and with an NMI at CPU 1 halfway through the quiet patch time
 * (its handler calls the first patched function).
 */
export function patchFigures(options: FigureOptions = {}): FigureRow[] {
  const counts = options.cpuCounts ?? CPU_COUNTS;
  const methods = options.methods ?? (['direct', 'stop-machine', 'breakpoint'] as const);
  const variants = options.variants ?? (['quiet', 'irq-off', 'nmi'] as const);
  const sites = options.sites ?? 4;
  const base = { user: options.user ?? 'ftrace', sites, arch: options.arch ?? 'x86_64', settle: 1, quantum: options.quantum ?? 1 } as const;
  const out: FigureRow[] = [];
  for (const cpus of counts) {
    for (const method of methods) {
      const quiet = runPatch({ ...base, method, cpus });
      for (const variant of variants) {
        if (variant === 'quiet') out.push(row(method, cpus, variant, quiet));
        else if (variant === 'irq-off') {
          if (cpus < 3) continue;
          const r = runPatch({ ...base, method, cpus, irqOff: { cpu: cpus - 1, cycles: options.irqOffCycles ?? 20_000 } });
          out.push(row(method, cpus, variant, r));
        } else {
          // 3.3's ftrace writes under stop_machine through its NMI protocol; without it this
          // NMI would find the site half-written (see nmiSweep).
          const r = runPatch({
            ...base,
            method,
            cpus,
            ftraceNmiProtocol: method === 'stop-machine',
            nmi: { cpu: Math.min(1, cpus - 1), afterCycles: Math.max(1, Math.floor(quiet.patchCycles / 2)) },
          });
          out.push(row(method, cpus, variant, r));
        }
      }
    }
  }
  return out;
}

export interface NmiSweepResult {
  readonly method: PatchMethod;
  readonly ftraceNmiProtocol: boolean;
  readonly arrivals: number;
  /** Arrival times at which some CPU crashed (#GP, unclaimed int3, or died). */
  readonly crashes: number;
  readonly firstCrashAt: number | undefined;
  /** Arrival times at which the NMI did the writer's write itself (the protocol's rescue). */
  readonly selfWrites: number;
  /** Arrival times at which the NMI handler hit the site's int3 (breakpoint method). */
  readonly int3InNmi: number;
}

/**
 * NMIs at every `stride`-th cycle of the patch window, one per run, at a CPU that is stopped
 * (stop_machine) or running (breakpoint); the NMI handler calls the function being patched.
 * Shows what 3.3's "NMIs on stopped CPUs" problem is and what ftrace's NMI protocol fixes.
 * Under `timing: 'flat'` a cycle is an instruction, so a stride of 1 tries every boundary.
 */
export function nmiSweep(
  method: PatchMethod,
  ftraceNmiProtocol: boolean,
  options: { readonly cpus?: number; readonly stride?: number; readonly arch?: Arch; readonly timing?: 'flat' | 'modelled' } = {},
): NmiSweepResult {
  const cpus = options.cpus ?? 2;
  const base = { method, cpus, sites: 1, ftraceNmiProtocol, settle: 1, arch: options.arch ?? 'x86_64', timing: options.timing ?? 'modelled' } as const;
  const quiet = runPatch(base);
  const stride = options.stride ?? 1;
  let crashes = 0;
  let arrivals = 0;
  let firstCrashAt: number | undefined;
  let selfWrites = 0;
  let int3InNmi = 0;
  for (let t = 0; t <= quiet.patchCycles; t += stride) {
    arrivals++;
    const r = runPatch({ ...base, nmi: { cpu: 1, afterCycles: t } });
    if (r.nmiSelfWrites > 0) selfWrites++;
    if (r.int3InNmi > 0) int3InNmi++;
    const crashed = r.gpFaults > 0 || r.strayInt3 > 0 || !r.completed || r.perCpu.some((c) => c.status !== 'running');
    if (crashed) {
      crashes++;
      firstCrashAt ??= t;
    }
  }
  return { method, ftraceNmiProtocol, arrivals, crashes, firstCrashAt, selfWrites, int3InNmi };
}
