import type { Arch } from '@kernsim/cpu-core';
import type { Kernel } from './boot.js';
import type { CorruptedReturn } from './nmi-tracker.js';
import type { ScenarioId, ScenarioSpec } from './scenarios.js';

/** One line of the scenario trace (the story, not every instruction). */
export interface ScenarioEvent {
  /** Machine step (all CPUs) at which it happened. */
  readonly step: number;
  readonly cpu: number;
  readonly kind: 'nmi-raised' | 'nmi-latched' | 'nmi-dropped' | 'delivery' | 'iret' | 'fault' | 'landmark' | 'overwrite' | 'corrupted-return' | 'panic' | 'death';
  readonly text: string;
}

/** The words of one CPU's NMI stack at a landmark, for diagrams. */
export interface StackCapture {
  readonly step: number;
  readonly cpu: number;
  readonly landmark: string;
  readonly title: string;
  readonly top: bigint;
  /** From the top down: words[0] is the slot just below `top`. */
  readonly words: readonly bigint[];
  /** The same slots as cpu-core's stack view labels them (frame pushed by which delivery), or undefined. */
  readonly pushedBy: readonly (string | undefined)[];
  /** Kernel symbol of each value, when it is a code address. */
  readonly symbols: readonly (string | undefined)[];
  /** NMIs active on the CPU at the time (nesting). */
  readonly activeNmis: number;
}

export interface CpuNmiAccount {
  readonly cpu: number;
  /** NMIs raised at the CPU (by the PMU model or an IPI). */
  readonly raised: number;
  /** Delivered to the entry code. */
  readonly delivered: number;
  /** Dropped at the hardware latch while one was already pending (their events wait for that one). */
  readonly mergedByHardware: number;
  /**
   * Delivered NMIs the entry folded into the handler run already under way on the CPU,
   * counted where the entry decides so (the entry's `mergeLabels`: 3.3's `nested_nmi`,
   * i386's `nmi_latched`) while another NMI was active.
   */
  readonly mergedBySoftware: number;
  /**
   * Delivered NMIs the entry took for nested while no other NMI was active on the CPU:
   * nothing merges or handles them (3.3's hazard of a user-set stack pointer seen at the
   * syscall entry). A lost NMI leaves the run not accounted for.
   */
  readonly lost: number;
  /** Runs of the handler no delivery started: the reruns for merged NMIs (3.3's `repeat_nmi`, i386's restart loop). */
  readonly repeats: number;
  /** Runs of the handler chain (do_nmi past the nesting check). */
  readonly handled: number;
  readonly unknown: number;
  /** Still pending when the run ended. */
  readonly pending: number;
  /** Every raised NMI was followed by a handler run, none was lost, and no PMU event is left unhandled. */
  readonly accountedFor: boolean;
}

export interface DumpStatus {
  readonly expectedTasks: readonly string[];
  readonly printedTasks: readonly string[];
  readonly headers: number;
  readonly complete: boolean;
}

export interface ScenarioResult {
  readonly scenario: ScenarioId;
  readonly title: string;
  readonly arch: Arch;
  readonly entry: string;
  readonly crashed: boolean;
  readonly crashReason: string | undefined;
  readonly corruptedReturns: readonly CorruptedReturn[];
  readonly nmis: {
    readonly raised: number;
    readonly handled: number;
    readonly mergedByHardware: number;
    readonly mergedBySoftware: number;
    readonly lost: number;
    readonly repeats: number;
    readonly unknown: number;
    readonly perCpu: readonly CpuNmiAccount[];
  };
  readonly accountedFor: boolean;
  readonly console: string;
  readonly dump: DumpStatus | undefined;
  /** Deepest nesting of NMI deliveries on one CPU, and of handler runs (do_nmi inside do_nmi). */
  readonly deepestNesting: number;
  readonly deepestHandlerNesting: number;
  readonly steps: number;
  readonly events: readonly ScenarioEvent[];
  readonly stacks: readonly StackCapture[];
  readonly kprobeHits: number;
  readonly pageFaults: number;
  readonly breakpoints: number;
}

/** What every run of a booted scenario honours: what to record, and the hooks of tests of exact windows. */
export interface PreparedRunOptions {
  /** Capture the NMI stack at the entry's landmarks (default true). */
  readonly captureStacks?: boolean;
  /** Keep the story of events (default true; sweeps turn it off). */
  readonly events?: boolean;
  /** Called once after boot, before the first step (load more code, point a CPU elsewhere, register handlers). */
  readonly setup?: (k: Kernel) => void;
  /** Called before each step; return an NMI source to raise at that CPU now (tests of exact windows). */
  readonly probe?: (k: Kernel, cpu: number) => 'watchdog' | 'sampler' | undefined;
}

/** `runNmiScenario` boots as well, so it honours the boot's options too. */
export interface RunOptions extends PreparedRunOptions {
  /** Instructions after the first exception's iret (or after the first NMI) at which the second NMI arrives. */
  readonly delay?: number;
  readonly seed?: number;
  /** Serial line cost in cycles per byte. */
  readonly serialCyclesPerByte?: number;
  /** Replace the scenario's specification (tests of single windows build their own). */
  readonly spec?: ScenarioSpec;
}
