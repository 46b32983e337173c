import type { Machine, Snapshot } from '@kernsim/cpu-core';
import type { Kernel, ScenarioEvent } from '@kernsim/kernel';

/** Steps between snapshots: a seek replays fewer than this many steps (plus HISTORY). */
export const SNAPSHOT_INTERVAL = 256;
/** Instructions remembered before the current step (a seek replays at least these). */
export const HISTORY = 16;

/** An event of the run as the lab marks it: the scenario runner's, or a counterexample's violation. */
export type LabEvent = Omit<ScenarioEvent, 'kind'> & { readonly kind: ScenarioEvent['kind'] | 'violation' };

/** How the NMI stack's slots are named: the x86_64 entries' fixed layouts, or i386's frames on the current stack. */
/** How to read the NMI stack: i386's live frames, or an x86_64 entry's IST layout (nmi-x86_64's `slotRoleOf`). */
export type StackKind = 'i386' | { readonly entry: string; readonly variant?: string };

export function stackKindOf(p: { readonly arch?: string; readonly entry: string; readonly variant?: string }): StackKind {
  if (p.arch === 'i386') return 'i386';
  return p.variant === undefined ? { entry: p.entry } : { entry: p.entry, variant: p.variant };
}

export interface ExecutedStep {
  readonly step: number;
  readonly cpu: number;
  /** Where the CPU was before the step. */
  readonly rip: bigint;
}

/** An NMI (or exception) frame on a CPU's stack at some step: where its RIP/EIP slot is. */
export interface LiveFrame {
  readonly name: string;
  /** Address of the frame's instruction-pointer slot. */
  readonly ip: bigint;
  /** The frame holds ESP and SS (the CPU came from user mode). */
  readonly fromUser: boolean;
}

/**
 * A recorded run the NMI lab shows at any step: a scenario run or a counterexample's schedule.
 * "Step n" is the machine after the run's first n steps.
 */
export interface ShownRun {
  readonly kernel: Kernel;
  readonly steps: number;
  readonly at: number;
  readonly stackKind: StackKind;
  /** The run's events in step order. */
  readonly events: readonly LabEvent[];
  /** The last instructions up to the current step (up to HISTORY). */
  readonly history: readonly ExecutedStep[];
  /** CPU that step `n` acts on, or undefined at the end. */
  cpuAt(n: number): number | undefined;
  /** What step `n` is, in a few words ("CPU 1 runs next"), or undefined at the end. */
  nextAt(n: number): string | undefined;
  /** Frames delivered and not yet returned from on `cpu` at the current step, outermost first. */
  liveFrames(cpu: number): readonly LiveFrame[];
  /** Puts the machine at step `n` (clamped to the run) and returns the step reached. */
  seek(n: number): number;
}

/**
 * Where a seek to `target` replays from: the current step when the target is at most one
 * interval ahead, else the nearest snapshot at least HISTORY steps back (so the replay also fills
 * the history). A snapshot already holds the raises of its own step; the replay skips them.
 */
function replayStart(snapshots: readonly (Snapshot | undefined)[], at: number, target: number): { readonly from: number; readonly snapshot: Snapshot | undefined } {
  if (target >= at && target - at <= SNAPSHOT_INTERVAL) return { from: at, snapshot: undefined };
  let i = Math.floor(Math.max(0, target - HISTORY) / SNAPSHOT_INTERVAL);
  let snap = snapshots[i];
  while (snap === undefined && i > 0) snap = snapshots[--i];
  if (snap === undefined) throw new Error('no snapshot to seek from');
  return { from: i * SNAPSHOT_INTERVAL, snapshot: snap };
}

/**
 * The first half of a seek: clamps `n` to the run, restores the snapshot the replay starts
 * from if one is needed (`restored`: the history must start again), and says where to replay from.
 */
export function seekStart(machine: Machine, snapshots: readonly (Snapshot | undefined)[], at: number, n: number, steps: number): { readonly target: number; readonly from: number; readonly restored: boolean } {
  const target = Math.max(0, Math.min(steps, Math.floor(n)));
  const start = replayStart(snapshots, at, target);
  if (start.snapshot !== undefined) machine.restore(start.snapshot);
  return { target, from: start.from, restored: start.snapshot !== undefined };
}

/** Keeps the last HISTORY executed steps. */
export function remember(history: ExecutedStep[], step: ExecutedStep): void {
  history.push(step);
  if (history.length > HISTORY) history.shift();
}
