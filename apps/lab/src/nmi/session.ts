import type { Snapshot } from '@kernsim/cpu-core';
import type { Kernel, ScenarioResult } from '@kernsim/kernel';
import { runScenario as runI386 } from '@kernsim/nmi-i386';
import { runScenario as runX86 } from '@kernsim/nmi-x86_64';
import type { NmiConfig, NmiSource } from './config.js';
import { frameEventOf, liveFramesAt } from './frames.js';
import type { FrameEvent } from './frames.js';
import { HISTORY, remember, seekStart, SNAPSHOT_INTERVAL } from './shown-run.js';
import { stackKindOf } from './shown-run.js';
import type { ExecutedStep, LabEvent, LiveFrame, ShownRun, StackKind } from './shown-run.js';

export { HISTORY, SNAPSHOT_INTERVAL };

interface Raise {
  readonly cpu: number;
  readonly source: NmiSource;
}

interface RunHooks {
  readonly setup: (k: Kernel) => void;
  readonly probe: (k: Kernel, cpu: number) => NmiSource | undefined;
}

/** The scenario run the demo shows, with the lab's hooks (the kernel's own setup/probe options). */
export function runConfigured(config: NmiConfig, hooks: RunHooks): ScenarioResult {
  const delay = config.delay === undefined ? {} : { delay: config.delay };
  if (config.arch === 'i386') return runI386(config.scenario, { latch: config.entry === 'nested', ...delay, ...hooks });
  return runX86(config.scenario, { entry: config.entry, ...(config.without !== undefined ? { nested: { [config.without]: false } } : {}), ...delay, ...hooks });
}

/**
 * One recorded run that can be shown at any machine step. The run is the kernel's own scenario
 * runner; the lab only listens: which CPU each step ran and which NMIs the PMU raised before it,
 * plus a machine snapshot every SNAPSHOT_INTERVAL steps. Seeking restores the nearest snapshot at
 * or before the step and replays the recorded choices — runs are deterministic, so the machine is
 * then exactly where the original run was.
 *
 * "State at step n" is the machine after n instructions (of all CPUs), before the NMIs raised
 * for instruction n.
 */
export class NmiSession implements ShownRun {
  readonly config: NmiConfig;
  readonly result: ScenarioResult;
  readonly kernel: Kernel;
  /** Number of instructions the run executed. */
  readonly steps: number;
  readonly stackKind: StackKind;
  readonly #frames: FrameEvent[] = [];
  /** CPU that executed each step. */
  readonly #cpuOf: Uint8Array;
  readonly #raises = new Map<number, Raise[]>();
  readonly #snapshots: (Snapshot | undefined)[] = [];
  readonly #step: (cpu: number) => void;
  readonly #raise: (cpu: number, source: NmiSource) => void;
  #history: ExecutedStep[] = [];
  #at: number;

  constructor(config: NmiConfig) {
    this.config = config;
    const injected = new Map(config.injections.map((i) => [i.step, i.source]));
    let kernel: Kernel | undefined;
    let cpuOf = new Uint8Array(4096);
    let count = 0;
    let step: ((cpu: number) => void) | undefined;
    let raise: ((cpu: number, source: NmiSource) => void) | undefined;
    const snapshots = this.#snapshots;
    const raises = this.#raises;
    const frames = this.#frames;
    this.result = runConfigured(config, {
      setup: (k) => {
        kernel = k;
        const m = k.machine;
        const originalStep = m.step.bind(m);
        const originalRaise = k.raisePmuNmi.bind(k);
        step = originalStep;
        raise = originalRaise;
        // Listening only: both wrappers call straight through.
        m.step = (cpu: number): void => {
          if (count % SNAPSHOT_INTERVAL === 0) snapshots[count / SNAPSHOT_INTERVAL] = m.snapshot();
          if (count === cpuOf.length) {
            const grown = new Uint8Array(cpuOf.length * 2);
            grown.set(cpuOf);
            cpuOf = grown;
          }
          cpuOf[count++] = cpu;
          const before = m.trace.length;
          originalStep(cpu);
          // The runner traces deliveries and irets: the lab keeps their frames, by step.
          for (let i = before; i < m.trace.length; i++) {
            const f = frameEventOf(m.trace[i]!, count - 1);
            if (f) frames.push(f);
          }
        };
        k.raisePmuNmi = (cpu: number, source: NmiSource): void => {
          const list = raises.get(count) ?? [];
          list.push({ cpu, source });
          raises.set(count, list);
          originalRaise(cpu, source);
        };
      },
      probe: () => injected.get(count),
    });
    if (!kernel || !step || !raise) throw new Error('the scenario runner did not call setup');
    this.kernel = kernel;
    this.#step = step;
    this.#raise = raise;
    this.#cpuOf = cpuOf.subarray(0, count);
    this.steps = count;
    this.stackKind = stackKindOf(config);
    // The runner's trace would keep growing with every replay; the lab reads events from the result.
    kernel.machine.stopTrace();
    // The run may end with NMIs raised for a step it never executed: seek so "at" means what it says.
    this.#at = count + 1;
    this.seek(count);
  }

  /** The step the machine is at now. */
  get at(): number {
    return this.#at;
  }

  get events(): readonly LabEvent[] {
    return this.result.events;
  }

  /** CPU that executes step `n` (the one "Inject NMI here" hits), or undefined at the end. */
  cpuAt(n: number): number | undefined {
    return n < this.steps ? this.#cpuOf[n] : undefined;
  }

  nextAt(n: number): string | undefined {
    const cpu = this.cpuAt(n);
    return cpu === undefined ? undefined : `CPU ${cpu} runs next`;
  }

  liveFrames(cpu: number): readonly LiveFrame[] {
    return liveFramesAt(this.#frames, cpu, this.#at);
  }

  /** Puts the machine at step `n` (clamped to the run) and returns the step reached. */
  seek(n: number): number {
    const { target, from, restored } = seekStart(this.kernel.machine, this.#snapshots, this.#at, n, this.steps);
    if (restored) this.#history = [];
    this.#replay(from, target, restored);
    this.#at = target;
    return target;
  }

  /** The last instructions up to the current step (up to HISTORY): which CPU ran, and where it was just before. */
  get history(): readonly ExecutedStep[] {
    return this.#history;
  }

  /** Replays steps [from, to); the raises of `from` are already in a snapshot taken there. */
  #replay(from: number, to: number, fromSnapshot: boolean): void {
    const cpus = this.kernel.machine.cpus;
    const history = this.#history;
    for (let s = from; s < to; s++) {
      if (!(fromSnapshot && s === from)) for (const r of this.#raises.get(s) ?? []) this.#raise(r.cpu, r.source);
      const cpu = this.#cpuOf[s]!;
      if (s >= to - HISTORY) remember(history, { step: s, cpu, rip: cpus[cpu]!.rip });
      this.#step(cpu);
    }
  }
}
