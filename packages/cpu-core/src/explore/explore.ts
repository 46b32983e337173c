import { CpuError } from '../errors.js';
import type { Machine, Snapshot } from '../machine/machine.js';
import type { ScheduleEntry } from '../machine/schedule.js';

/** A property of a state: return a message when it is violated, undefined when it holds. */
export type Invariant = (m: Machine) => string | undefined;

export interface ExploreOptions {
  /** Longest schedule (steps plus injected events) to consider. */
  readonly maxDepth: number;
  /** External NMIs the search may inject along one path (default 0), and at which CPUs (default all). */
  readonly nmiBudget?: number;
  readonly nmiCpus?: readonly number[];
  /** External maskable interrupts along one path (default 0) with this vector (default 0x20). */
  readonly irqBudget?: number;
  readonly irqVector?: number;
  readonly irqCpus?: readonly number[];
  /** Checked after every choice. */
  readonly invariants?: readonly Invariant[];
  /** Checked at terminal states: `done` holds, or no CPU can run. */
  readonly finalInvariants?: readonly Invariant[];
  /** The scenario finished successfully: stop exploring this path. */
  readonly done?: (m: Machine) => boolean;
  /** Symbols the kernel treats as fatal (e.g. 'die', 'panic'): a CPU reaching one is a violation. */
  readonly fatalSymbols?: readonly string[];
  /**
   * How many NMIs the kernel says it handled (e.g. read a counter from memory). At terminal states
   * it must equal raised - dropped - still pending, summed over CPUs (the hardware latch rule).
   */
  readonly nmiHandled?: (m: Machine) => number;
  /** Stop after visiting this many states (default 200 000). */
  readonly maxStates?: number;
}

export interface Counterexample {
  readonly violation: string;
  /** The choices from the starting state: replay with `machine.restore(start)` then `run({ scheduler: { kind: 'replay', schedule } })`. */
  readonly schedule: readonly ScheduleEntry[];
  /** The formatted trace of that replay. */
  readonly trace: string;
}

export interface ExploreResult {
  readonly ok: boolean;
  readonly counterexample: Counterexample | undefined;
  readonly statesVisited: number;
  /** True when every path up to maxDepth was covered (the state budget was not hit). */
  readonly exhaustive: boolean;
  /** Depth bound of the last completed iteration. */
  readonly depth: number;
}

type Choice = ScheduleEntry;

class Stop extends Error {
  constructor(readonly violation: string) {
    super(violation);
  }
}

/** The scenario is over on this path: `done` holds, or no CPU can run. */
function isTerminal(m: Machine, options: ExploreOptions): boolean {
  return (options.done?.(m) ?? false) || !m.cpus.some((_, i) => m.isRunnable(i));
}

/** The first property `m` violates (a dead CPU, a fatal symbol reached, an invariant), or undefined. */
function violation(m: Machine, options: ExploreOptions, fatal: readonly (readonly [string, bigint])[]): string | undefined {
  for (const c of m.cpus) {
    if (c.status === 'dead') return `CPU ${c.id} died: ${c.deathReason}`;
    for (const [name, addr] of fatal) if (c.status !== 'offline' && c.rip === addr) return `CPU ${c.id} reached fatal ${name}`;
  }
  for (const inv of options.invariants ?? []) {
    const v = inv(m);
    if (v !== undefined) return v;
  }
  if (!isTerminal(m, options)) return undefined;
  if (!(options.done?.(m) ?? true)) return 'stuck: no CPU can run and the scenario is not done';
  for (const inv of options.finalInvariants ?? []) {
    const v = inv(m);
    if (v !== undefined) return v;
  }
  if (options.nmiHandled) {
    let expected = 0;
    for (const c of m.cpus) {
      const n = c.nmiCounters;
      expected += n.raised - n.dropped - (c.nmiPending ? 1 : 0);
    }
    const handled = options.nmiHandled(m);
    if (handled !== expected) return `NMIs handled ${handled}, expected ${expected} (raised - dropped - pending)`;
  }
  return undefined;
}

/**
 * Exhaustive depth-first search over the choice points (which CPU steps; where external
 * NMIs/interrupts arrive), with iterative deepening so the first counterexample found is a
 * shortest one, and visited-state pruning on the machine's incremental hash. The machine
 * is left restored to its starting state.
 */
export function explore(machine: Machine, options: ExploreOptions): ExploreResult {
  if (!Number.isInteger(options.maxDepth) || options.maxDepth < 1) throw new CpuError('KERNSIM_CPU_BAD_ARGUMENT', `maxDepth must be a positive integer, got ${options.maxDepth}`);
  if (!machine.recordsSchedule) throw new CpuError('KERNSIM_CPU_BAD_ARGUMENT', 'explore needs a machine that records its schedule (createMachine({ recordSchedule: true }), the default), found recording off');
  const root = machine.snapshot();
  const rootLen = machine.scheduleLength;
  const cpus = machine.cpus.length;
  const all = Array.from({ length: cpus }, (_, i) => i);
  const nmiCpus = options.nmiCpus ?? all;
  const irqCpus = options.irqCpus ?? all;
  const irqVector = options.irqVector ?? 0x20;
  const fatal = (options.fatalSymbols ?? []).map((s) => [s, machine.address(s)] as const);
  const maxStates = options.maxStates ?? 200_000;
  let states = 0;
  const budget = { hit: false };

  const terminal = (m: Machine): boolean => isTerminal(m, options);
  const check = (m: Machine): string | undefined => violation(m, options, fatal);

  const apply = (m: Machine, c: Choice): void => {
    if (c.kind === 'step') m.step(c.cpu);
    else if (c.kind === 'nmi') m.injectNmi(c.cpu);
    else m.injectIrq(c.cpu, c.vector);
  };

  let found: string | undefined;
  let foundSchedule: ScheduleEntry[] = [];
  let completed = 0;

  for (let limit = 1; limit <= options.maxDepth && found === undefined; limit++) {
    const visited = new Map<string, number>();
    const dfs = (depth: number, nmiLeft: number, irqLeft: number): void => {
      const remaining = limit - depth;
      if (remaining === 0 || terminal(machine)) return;
      const key = `${machine.hash()}:${nmiLeft}:${irqLeft}`;
      const seen = visited.get(key);
      if (seen !== undefined && seen >= remaining) return;
      visited.set(key, remaining);
      if (++states > maxStates) {
        budget.hit = true;
        return;
      }
      const choices: Choice[] = [];
      for (let i = 0; i < cpus; i++) if (machine.isRunnable(i)) choices.push({ kind: 'step', cpu: i });
      if (nmiLeft > 0) for (const i of nmiCpus) if (machine.cpus[i]!.status !== 'offline' && machine.cpus[i]!.status !== 'dead') choices.push({ kind: 'nmi', cpu: i });
      if (irqLeft > 0) for (const i of irqCpus) if (machine.cpus[i]!.status !== 'offline' && machine.cpus[i]!.status !== 'dead') choices.push({ kind: 'irq', cpu: i, vector: irqVector });
      const here: Snapshot = machine.snapshot();
      for (let k = 0; k < choices.length; k++) {
        if (k > 0) machine.restore(here);
        const c = choices[k]!;
        apply(machine, c);
        const v = check(machine);
        if (v !== undefined) throw new Stop(v);
        dfs(depth + 1, nmiLeft - (c.kind === 'nmi' ? 1 : 0), irqLeft - (c.kind === 'irq' ? 1 : 0));
        if (budget.hit) return;
      }
    };
    try {
      const v0 = check(machine);
      if (v0 !== undefined) throw new Stop(v0);
      dfs(0, options.nmiBudget ?? 0, options.irqBudget ?? 0);
      if (!budget.hit) completed = limit;
    } catch (e) {
      if (!(e instanceof Stop)) throw e;
      found = e.violation;
      foundSchedule = machine.schedule().slice(rootLen);
    }
    machine.restore(root);
    if (budget.hit) break;
  }

  let counterexample: Counterexample | undefined;
  if (found !== undefined) {
    machine.startTrace();
    machine.run({ steps: foundSchedule.length + 1, scheduler: { kind: 'replay', schedule: foundSchedule } });
    counterexample = { violation: found, schedule: foundSchedule, trace: machine.formatTrace() };
    machine.stopTrace();
    machine.restore(root);
  }
  return { ok: found === undefined, counterexample, statesVisited: states, exhaustive: !budget.hit && found === undefined, depth: completed };
}
