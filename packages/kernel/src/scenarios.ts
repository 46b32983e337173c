import { KernelError } from './errors.js';
import type { TaskProgram } from './user-programs.js';

/** The four NMI scenarios of issue 4, plus the debug-stack one of the 3.3 series. */
export type ScenarioId = 'watchdog-dump' | 'perf-vmalloc' | 'kprobe' | 'storm' | 'debug-stack';

export const SCENARIO_IDS: readonly ScenarioId[] = ['watchdog-dump', 'perf-vmalloc', 'kprobe', 'storm', 'debug-stack'];

/** When the second (or a periodic) NMI arrives. */
export type Arrival =
  /** At CPU step n (instructions executed by that CPU since boot). */
  | { readonly kind: 'at-step'; readonly step: number }
  /** n instructions after the first NMI's first exception (#PF/#BP) on that CPU has returned with iret. */
  | { readonly kind: 'after-exception-iret'; readonly delay: number }
  /** n instructions after the first NMI was delivered on that CPU. */
  | { readonly kind: 'after-first-nmi'; readonly delay: number }
  /** When the CPU is about to execute the instruction at this symbol (its k-th time, from 1). */
  | { readonly kind: 'at-symbol'; readonly symbol: string; readonly occurrence?: number };

export interface NmiInjection {
  readonly cpu: number;
  readonly source: 'watchdog' | 'sampler';
  readonly arrival: Arrival;
}

export interface CpuSetup {
  readonly program: TaskProgram;
  /** Whether this CPU's running task has the perf buffer's vmalloc mapping already. */
  readonly bufferSynced: boolean;
  /** Hard-lockup detector state: true when the timer has not ticked since the last check. */
  readonly lockedUp: boolean;
}

export interface ScenarioSpec {
  readonly id: ScenarioId;
  readonly title: string;
  readonly cpus: readonly CpuSetup[];
  /** Sleeping tasks besides the running ones; `badFrame` makes show_state's careful read fault. */
  readonly sleepers: readonly { readonly name: string; readonly badFrame: boolean }[];
  readonly injections: readonly NmiInjection[];
  /** Periodic sampler NMIs: every `period` instructions on each listed CPU, `count` times. */
  readonly storm?: { readonly cpus: readonly number[]; readonly period: number; readonly count: number; readonly start: number };
  /** Symbols to put kprobes on. */
  readonly kprobes: readonly string[];
  /** Instructions each CPU may run before the run is cut off. */
  readonly budget: number;
}

const SLEEPERS = [
  { name: 'init', badFrame: false },
  { name: 'kthreadd', badFrame: false },
  { name: 'kworker/0:1', badFrame: true },
  { name: 'rsyslogd', badFrame: false },
  { name: 'sshd', badFrame: false },
  { name: 'bash', badFrame: false },
] as const;

/**
 * The scenarios, with the second NMI's arrival as a parameter (`delay`, in
 * instructions after the first exception's iret, or after the first NMI for the dump).
 */
export function scenarioSpec(id: ScenarioId, params: { readonly delay?: number; readonly small?: boolean } = {}): ScenarioSpec {
  // Checked here, not left to the run: an unknown id has no spec (a TypeError deep in the
  // runner), and a NaN delay never arrives, so the run would be reported "stuck" as a crash.
  if (!SCENARIO_IDS.includes(id)) throw new KernelError('KERNSIM_KERNEL_BAD_OPTIONS', `unknown scenario ${id}; expected one of ${SCENARIO_IDS.join(', ')}`);
  if (params.delay !== undefined && (!Number.isSafeInteger(params.delay) || params.delay < 0)) {
    throw new KernelError('KERNSIM_KERNEL_BAD_OPTIONS', `delay must be a whole number of instructions, 0 or more; got ${params.delay}`);
  }
  const user = (synced: boolean): CpuSetup => ({ program: { kind: 'user-syscalls' }, bufferSynced: synced, lockedUp: false });
  switch (id) {
    case 'watchdog-dump':
      return watchdogDumpSpec(params, user);
    case 'perf-vmalloc':
      return {
        id,
        title: 'Perf sampler touching its vmalloc buffer for the first time in NMI context',
        cpus: [user(false), user(true)],
        sleepers: SLEEPERS.slice(0, 2),
        injections: [
          { cpu: 0, source: 'sampler', arrival: { kind: 'at-step', step: 40 } },
          { cpu: 0, source: 'sampler', arrival: { kind: 'after-exception-iret', delay: params.delay ?? 3 } },
          { cpu: 1, source: 'sampler', arrival: { kind: 'at-step', step: 60 } },
        ],
        kprobes: [],
        budget: 100_000,
      };
    case 'kprobe':
      return {
        id,
        title: 'A kprobe on perf_sample(), a function the NMI handler calls',
        cpus: [user(true), user(true)],
        sleepers: SLEEPERS.slice(0, 2),
        injections: [
          { cpu: 0, source: 'sampler', arrival: { kind: 'at-step', step: 40 } },
          { cpu: 0, source: 'sampler', arrival: { kind: 'after-exception-iret', delay: params.delay ?? 3 } },
          { cpu: 1, source: 'sampler', arrival: { kind: 'at-step', step: 60 } },
        ],
        kprobes: ['perf_sample'],
        budget: 100_000,
      };
    case 'storm':
      return {
        id,
        title: 'NMI storm: sampler NMIs back to back on four CPUs',
        cpus: [user(true), user(true), { program: { kind: 'kernel-loop' }, bufferSynced: true, lockedUp: false }, user(true)],
        sleepers: SLEEPERS.slice(0, 2),
        injections: [],
        storm: { cpus: [0, 1, 2, 3], period: params.delay ?? 60, count: 40, start: 20 },
        kprobes: [],
        budget: 200_000,
      };
    case 'debug-stack':
      return {
        id,
        title: 'An NMI interrupts a #BP handler on its IST stack, and the NMI handler hits a kprobe',
        cpus: [{ program: { kind: 'kernel-probed-loop' }, bufferSynced: true, lockedUp: false }],
        sleepers: SLEEPERS.slice(0, 2),
        injections: [{ cpu: 0, source: 'sampler', arrival: { kind: 'at-symbol', symbol: 'int3', occurrence: 1 } }],
        kprobes: ['kthread_work', 'perf_sample'],
        budget: 100_000,
      };
  }
}

/** Scenario 1: the hard-lockup watchdog's show_state() from NMI context (`small`: the sweeps' one-CPU version). */
function watchdogDumpSpec(params: { readonly delay?: number; readonly small?: boolean }, user: (synced: boolean) => CpuSetup): ScenarioSpec {
  if (params.small) {
    // One CPU and three sleepers: the sweep's version (same code paths, a shorter dump).
    return {
      id: 'watchdog-dump',
      title: 'Watchdog dump (one CPU, short task list), second NMI at a chosen point of the first',
      cpus: [{ program: { kind: 'kernel-lockup' }, bufferSynced: true, lockedUp: true }],
      sleepers: [SLEEPERS[0], SLEEPERS[2], SLEEPERS[4]],
      injections: [
        { cpu: 0, source: 'watchdog', arrival: { kind: 'at-step', step: 20 } },
        { cpu: 0, source: 'sampler', arrival: { kind: 'after-first-nmi', delay: params.delay ?? 3000 } },
      ],
      kprobes: [],
      budget: 100_000,
    };
  }
  return {
    id: 'watchdog-dump',
    title: 'Watchdog dump: show_state() from the hard-lockup NMI, careful reads fault, slow serial, another NMI during the dump',
    cpus: [{ program: { kind: 'kernel-lockup' }, bufferSynced: true, lockedUp: true }, user(true)],
    sleepers: SLEEPERS,
    injections: [
      { cpu: 0, source: 'watchdog', arrival: { kind: 'at-step', step: 50 } },
      { cpu: 0, source: 'sampler', arrival: { kind: 'after-exception-iret', delay: params.delay ?? 400 } },
      { cpu: 1, source: 'sampler', arrival: { kind: 'at-step', step: 300 } },
    ],
    kprobes: [],
    budget: 400_000,
  };
}
