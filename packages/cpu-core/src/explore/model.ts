import type { PlanData } from './plan.js';
import type { Machine } from '../machine/machine.js';

/**
 * One choice at an instruction boundary: a CPU takes one step, or an event source fires at a
 * CPU (an external NMI, an interrupt, an IPI, a fault the caller declared). A list of choices
 * from a start state is a schedule; `replaySchedule` applies it bit for bit.
 */
export type Choice = { readonly kind: 'step'; readonly cpu: number } | { readonly kind: 'event'; readonly source: string; readonly cpu: number };

/** Whether two choices are the same choice (the same object or the same fields). */
export function sameChoice(x: Choice, y: Choice): boolean {
  return x === y || (x.kind === y.kind && x.cpu === y.cpu && (x.kind === 'step' || (y.kind === 'event' && x.source === y.source)));
}

/**
 * Something outside the CPUs that can happen at a boundary. `kind` tells the engine how the
 * hardware takes it, which lets it offer the event only where it changes what happens next:
 * an NMI only while the CPU is not NMI-blocked and has none pending (raised while blocked it
 * waits in the latch and is taken at the first unblocked boundary, which is the same as
 * arriving there), an interrupt only while IF is set and it is not already pending.
 * `fault` sources are offered wherever `enabled` says.
 */
export interface EventSource {
  readonly name: string;
  readonly kind: 'nmi' | 'irq' | 'fault';
  /** How many times it may fire at each CPU along one path. */
  readonly budget: number;
  /** CPUs it may fire at (default: all). */
  readonly cpus?: readonly number[];
  /** Vector of an `irq` source (what `fire` defaults to). */
  readonly vector?: number;
  /** Extra condition for offering the event at this CPU now (required for `fault`). */
  readonly enabled?: (m: Machine, cpu: number) => boolean;
  /** Makes it happen (default: `injectNmi` / `injectIrq(vector)`). Must be deterministic. */
  readonly fire?: (m: Machine, cpu: number) => void;
}

/** A violation as the engine reports it. */
export interface Finding {
  readonly invariant: string;
  readonly detail: string;
}

/**
 * A property checked after every choice. `reads` lists the CPUs whose private state (registers,
 * flags) the check looks at; steps of those CPUs are never reordered by the partial-order
 * reduction (the reduction's invisibility condition). Leave it out to mean "every CPU".
 */
export interface Invariant {
  readonly name: string;
  readonly reads?: readonly number[];
  /**
   * The check reads memory only (through `read`/`readBytes`: no register, no CPU status, no
   * counter): the engine runs it only where memory or the mappings changed since the last state
   * on the path (it held there, else the path would have ended).
   */
  readonly memoryOnly?: boolean;
  check(m: Machine): string | undefined;
}

/**
 * An invariant with memory of the path (e.g. what each NMI interrupted). Its state must be an
 * immutable value: the engine keeps one per node of the search and uses `key` in the
 * visited-state identity, so two paths merge only when their monitors agree.
 *
 * Contracts the engine relies on: `before` and `after` come in strict pairs, one choice at a
 * time (a monitor may keep scratch between them); `after` returning the very state object it
 * was given means "unchanged" (the engine then keeps its digest and skips `key`); and the
 * object `after` returns is read at once, so a monitor may reuse it between calls.
 */
export interface Monitor<S = unknown> {
  /** The invariant names it may report. */
  readonly names: readonly string[];
  readonly reads?: readonly number[];
  init(m: Machine): S;
  /** Called before a choice is applied (read what the step is about to do). */
  before?(m: Machine, choice: Choice, state: S): S;
  /** Called after it: the new state and any violations. */
  after(m: Machine, choice: Choice, state: S): { readonly state: S; readonly findings?: readonly Finding[] };
  /** Checked where the search ends a path because nothing can run or `done` holds. */
  final?(m: Machine, state: S): readonly Finding[];
  key(state: S): string;
  /**
   * The state's key as 64 bits in out[0], out[1], if the monitor can make them without text (the
   * engine then uses this instead of digesting `key`): equal for equal keys, and as unlikely to
   * be equal for different keys as a 64-bit hash of them.
   */
  digest?(state: S, out: Int32Array): void;
}

export interface SearchOptions {
  /** Longest schedule considered (steps plus events). */
  readonly maxDepth: number;
  /** Event sources. */
  readonly events?: readonly EventSource[];
  readonly invariants?: readonly Invariant[];
  readonly monitors?: readonly Monitor[];
  /** The scenario is over: stop this path (final checks run). Gets the monitors' states, in `monitors` order. */
  readonly done?: (m: Machine, monitors: readonly unknown[]) => boolean;
  /** Symbols the code treats as fatal (panic, die): a CPU about to execute one is a violation `fatal`. */
  readonly fatalSymbols?: readonly string[];
  /** Partial-order reduction of private steps (default true). */
  readonly reduction?: boolean;
  /** Code ranges some CPU may rewrite while another runs them (text patching): steps there are never private. */
  readonly sharedCode?: readonly (readonly [bigint, bigint])[];
  /** Stop after this many distinct states (default 1 000 000); the result then says it is not exhaustive. */
  readonly maxStates?: number;
  /**
   * Backtracking replays fewer than this many choices (default 24): a node with more than one
   * choice gets a snapshot when the nearest one above it on the path is this many levels up (a
   * long run of one-choice nodes, one CPU stepping, takes none). A node the reduction's proviso
   * turns into a branch afterwards may replay more.
   */
  readonly checkpointEvery?: number;
  /**
   * A node with one choice stores its visited key only at depths that are multiples of this
   * (default 8; 1 keys every state). A run of such nodes (one CPU stepping where no event can
   * arrive) is one path, so skipping keys prunes nothing it would not prune a few steps later:
   * a run that joins another is searched at most `keyEvery − 1` states too far, and counted so.
   */
  readonly keyEvery?: number;
  /** Asked every 1024 states: return true to stop now (Ctrl-C); the result keeps what was found. */
  readonly shouldStop?: () => boolean;
  /** Told every 1024 states. */
  readonly onProgress?: (p: { readonly states: number; readonly transitions: number; readonly violations: number }) => void;
}

export interface Violation extends Finding {
  /** A shortest schedule from the search's start state that ends in this violation. */
  readonly schedule: readonly Choice[];
}

export interface SearchResult {
  /** `verified`: every path within the depth bound was covered and none violated; `violated`: at least one violation; `incomplete`: the state budget or a stop cut the search short. */
  readonly verdict: 'verified' | 'violated' | 'incomplete';
  /** Distinct states visited. */
  readonly states: number;
  /** Choices applied (edges of the search graph, revisits included). */
  readonly transitions: number;
  /** Paths that ended (terminal, depth bound, pruned as seen, violation). */
  readonly schedules: number;
  /** One shortest counterexample per invariant. */
  readonly violations: readonly Violation[];
  /** Every path ended on its own (terminal or done), none at the depth bound, nothing cut. */
  readonly exhaustive: boolean;
  /** Deepest level reached. */
  readonly depth: number;
  /** Nodes the reduction expanded with one CPU's private step only. */
  readonly reducedNodes: number;
  /** True when the reduction was switched off because a CPU sent an IPI (see README). */
  readonly reductionWithdrawn: boolean;
}

/*
 * What a domain's explorer (NMI entries, text patching) reports over several searches, one per
 * start state (or phase): the shapes are the engine's so every report and saved file reads alike.
 */

/** One violation found from one start: the invariant's name, what broke, a shortest schedule to it. */
export interface StartViolation<Start extends string = string> {
  readonly invariant: string;
  readonly start: Start;
  readonly detail: string;
  readonly schedule: readonly Choice[];
}

/** The verdict of the search from one start, within its depth bound. */
export interface StartVerdict<Start extends string = string> {
  readonly start: Start;
  readonly verdict: SearchResult['verdict'];
  readonly states: number;
  readonly schedules: number;
  readonly exhaustive: boolean;
  readonly depth: number;
}

/** A domain explorer's report: the searches from each start, merged (one shortest counterexample per invariant and start). */
export interface StartsReport<Start extends string, Params> {
  readonly verdict: SearchResult['verdict'];
  /** The budget in words, e.g. `2 NMIs, depth 1500, 8 start states`. */
  readonly budget: string;
  readonly states: number;
  readonly schedules: number;
  readonly violations: readonly StartViolation<Start>[];
  readonly starts: readonly StartVerdict<Start>[];
  /** Every start's search plan (a checkpoint: pass it back as `resume`). */
  readonly plans: Readonly<Partial<Record<Start, PlanData>>>;
  readonly params: Omit<Params, 'start'>;
}

/** A counterexample as saved to a file: what to rebuild the model from, and the schedule to replay on it. */
export interface CounterexampleFileOf<Format extends string, Params> {
  readonly format: Format;
  readonly version: 1;
  readonly params: Params;
  readonly invariant: string;
  readonly detail: string;
  readonly schedule: readonly Choice[];
}
