import { CpuError } from '../errors.js';
import type { Machine, Snapshot } from '../machine/machine.js';
import type { Choice, EventSource, Finding, Monitor, SearchOptions, SearchResult, Violation } from './model.js';
import type { FrontierCache, FrontierState } from './frontier-cache.js';
import type { SearchJob } from './plan.js';
import { shorterSchedule } from './plan.js';
import { PrivateSteps } from './reduction.js';
import { applyChoice, fire, sourceMap } from './replay.js';

/** A node of the depth-first search: its choices, which one is next, and what the path carries there. */
interface Level {
  choices: Choice[];
  next: number;
  readonly budgets: Int32Array;
  readonly monitors: readonly unknown[];
  /** When the node was reduced to one private step: the choices left out (added back by the proviso). */
  deferred: Choice[] | null;
}


export interface RunOptions {
  /** Start below this schedule (a job's prefix); violations' schedules include it. */
  readonly prefix?: readonly Choice[];
  /** Do not expand nodes at this depth: hand them back as `frontier` (splitting work into jobs). */
  readonly frontierAt?: number;
  /**
   * Visited-state keys shared with other runs on the same start state (jobs of one plan in one
   * thread or one worker): a state some earlier job explored is not explored again. Sound
   * because the key includes the depth: the subtree below a (state, depth) pair is the same
   * whichever path reached it.
   */
  readonly visited?: Set<string>;
  /** The job's start as this thread left it (see FrontierCache): restored instead of replaying `prefix`. */
  readonly start?: FrontierState;
  /** Where to keep the frontier nodes this run hands back, for jobs this thread runs later. */
  readonly frontierCache?: FrontierCache;
}

export interface RunResult extends SearchResult {
  readonly frontier: readonly SearchJob[];
  /** The state budget or a stop cut the search short. */
  readonly cut: boolean;
  /** Some path ended at the depth bound. */
  readonly bounded: boolean;
}

class Restart extends Error {}

const NOT_AT_PATH = -1;

/**
 * The search engine (see the README): depth-first over every choice, with a visited set keyed
 * on the machine's hash, the depth, the budgets left and the monitors' states. Because the
 * depth is part of the key, each (state, depth) pair is visited once and the shortest schedule
 * reaching each violation is found whatever the order. Backtracking restores the nearest
 * snapshot on the current path and replays at most `checkpointEvery` choices (a snapshot costs
 * far more than a step). The machine is left as it was.
 */
export function runSearch(machine: Machine, options: SearchOptions, run: RunOptions = {}): RunResult {
  if (!Number.isInteger(options.maxDepth) || options.maxDepth < 1) throw new CpuError('KERNSIM_CPU_BAD_ARGUMENT', `maxDepth must be a positive integer, got ${options.maxDepth}`);
  const every = options.checkpointEvery ?? 24;
  if (!Number.isInteger(every) || every < 1) throw new CpuError('KERNSIM_CPU_BAD_ARGUMENT', `checkpointEvery must be a positive integer, got ${every}`);
  const reduce = options.reduction ?? true;
  try {
    return new Search(machine, options, reduce).run(run);
  } catch (e) {
    if (!(e instanceof Restart)) throw e;
    const r = new Search(machine, options, false).run(run);
    return { ...r, reductionWithdrawn: true };
  }
}

/**
 * Replays a schedule with the search's monitors and invariants watching, and returns what they
 * found along it (a saved counterexample must reproduce its violation). The machine is left at
 * the schedule's end.
 */
export function checkSchedule(machine: Machine, options: SearchOptions, schedule: readonly Choice[]): Finding[] {
  const s = new Search(machine, options, false);
  let mon: unknown[] = s.monitors.map((x) => x.init(machine));
  const budgets = new Int32Array(s.events.length * s.ncpu).fill(1 << 30);
  const out: Finding[] = [...s.checkState()];
  for (const c of schedule) {
    if (!Number.isInteger(c.cpu) || c.cpu < 0 || c.cpu >= s.ncpu) throw new CpuError('KERNSIM_CPU_SCHEDULE', `schedule names CPU ${c.cpu}; the machine has CPUs 0..${s.ncpu - 1}`);
    if (c.kind === 'event' && !s.sources.has(c.source)) throw new CpuError('KERNSIM_CPU_SCHEDULE', `schedule names event source ${c.source}; known: ${[...s.sources.keys()].join(', ') || 'none'}`);
    const r = s.apply(c, mon, budgets);
    mon = r.monitors;
    out.push(...r.findings, ...s.checkState());
  }
  const done = options.done?.(machine, mon) ?? false;
  if (done || s.choices(budgets).length === 0) s.monitors.forEach((x, i) => out.push(...(x.final?.(machine, mon[i]) ?? [])));
  return out;
}

class Search {
  readonly m: Machine;
  readonly o: SearchOptions;
  readonly reduce: boolean;
  readonly sources: Map<string, EventSource>;
  readonly events: readonly EventSource[];
  readonly monitors: readonly Monitor[];
  readonly ncpu: number;
  readonly private: PrivateSteps;
  /** CPUs whose steps the reduction may not reorder (some invariant reads their registers). */
  readonly visible: Uint8Array;
  readonly fatal: readonly (readonly [string, bigint])[];
  readonly stepChoices: readonly Choice[];
  readonly eventChoices: readonly Choice[];
  /** The choices of the node `visit` just judged (the level built on it takes them). */
  enabled: Choice[] = [];
  visited = new Set<string>();
  readonly found = new Map<string, Violation>();
  readonly frontier: SearchJob[] = [];
  readonly path: Choice[] = [];
  readonly snaps: (Snapshot | undefined)[] = [];
  states = 0;
  transitions = 0;
  schedules = 0;
  deepest = 0;
  reducedNodes = 0;
  cut = false;
  bounded = false;
  at = 0;
  cache: FrontierCache | undefined;
  readonly digests = new Map<string, string>();

  constructor(m: Machine, o: SearchOptions, reduce: boolean) {
    this.m = m;
    this.o = o;
    this.reduce = reduce;
    this.events = o.events ?? [];
    this.sources = sourceMap(this.events);
    this.monitors = o.monitors ?? [];
    this.ncpu = m.cpus.length;
    this.private = new PrivateSteps(m, o.sharedCode);
    this.visible = new Uint8Array(this.ncpu);
    for (const r of [...(o.invariants ?? []), ...this.monitors]) {
      if (r.reads === undefined) this.visible.fill(1);
      else for (const c of r.reads) if (c >= 0 && c < this.ncpu) this.visible[c] = 1;
    }
    this.fatal = (o.fatalSymbols ?? []).map((s) => [s, m.address(s)] as const);
    // Choices are immutable values: one object each, shared by every node and schedule.
    this.stepChoices = m.cpus.map((_, cpu) => ({ kind: 'step', cpu }));
    this.eventChoices = this.events.flatMap((s) => m.cpus.map((_, cpu) => ({ kind: 'event', source: s.name, cpu })));
    for (const s of this.events) for (const c of s.cpus ?? []) if (!Number.isInteger(c) || c < 0 || c >= this.ncpu) throw new CpuError('KERNSIM_CPU_BAD_ARGUMENT', `event source ${s.name} names CPU ${c}; the machine has CPUs 0..${this.ncpu - 1}`);
  }

  run(run: RunOptions): RunResult {
    const m = this.m;
    const home = m.snapshot();
    if (run.visited) this.visited = run.visited;
    try {
      const budgets = new Int32Array(this.events.length * this.ncpu);
      this.events.forEach((s, i) => budgets.fill(s.budget, i * this.ncpu, (i + 1) * this.ncpu));
      let mon: unknown[] = this.monitors.map((x) => x.init(m));
      const start = run.start;
      if (start) {
        m.restore(start.snapshot);
        budgets.set(start.budgets);
        mon = start.monitors.slice();
        this.path.push(...start.prefix);
      } else {
        for (const c of run.prefix ?? []) {
          mon = this.apply(c, mon, budgets).monitors;
          this.path.push(c);
        }
      }
      const base = this.path.length;
      this.snaps[base] = base === 0 ? home : (start?.snapshot ?? m.snapshot());
      this.at = base;
      this.cache = run.frontierCache;
      if (!this.report(this.checkState())) this.dfs(base, budgets, mon, run.frontierAt);
    } finally {
      m.restore(home);
    }
    const violations = [...this.found.values()].sort((a, b) => a.schedule.length - b.schedule.length || a.invariant.localeCompare(b.invariant));
    return {
      verdict: violations.length > 0 ? 'violated' : this.cut ? 'incomplete' : 'verified',
      states: this.states,
      transitions: this.transitions,
      schedules: this.schedules,
      violations,
      exhaustive: !this.cut && !this.bounded,
      depth: this.deepest,
      reducedNodes: this.reducedNodes,
      reductionWithdrawn: false,
      frontier: this.frontier,
      cut: this.cut,
      bounded: this.bounded,
    };
  }

  dfs(base: number, budgets0: Int32Array, mon0: readonly unknown[], frontierAt: number | undefined): void {
    const m = this.m;
    const o = this.o;
    const maxStates = o.maxStates ?? 1_000_000;
    const every = o.checkpointEvery ?? 24;
    const levels: Level[] = [this.level(budgets0, mon0)];
    while (levels.length > 0) {
      const d = base + levels.length - 1;
      const L = levels[levels.length - 1]!;
      if (L.next >= L.choices.length) {
        levels.pop();
        if (levels.length > 0) this.path.pop();
        this.snaps[d] = undefined;
        this.at = NOT_AT_PATH;
        continue;
      }
      const c = L.choices[L.next++]!;
      if (this.at !== d) this.goto(d);
      const budgets = L.budgets.slice();
      const { monitors, findings } = this.apply(c, L.monitors, budgets);
      this.at = NOT_AT_PATH;
      this.transitions++;
      const depth = d + 1;
      if (depth > this.deepest) this.deepest = depth;
      this.path.push(c);
      const ended = this.visit(depth, budgets, monitors, findings, L, frontierAt);
      this.path.pop();
      if (ended) {
        this.schedules++;
        continue;
      }
      if (this.states >= maxStates || ((this.states & 1023) === 0 && (o.shouldStop?.() ?? false))) {
        this.cut = true;
        return;
      }
      if ((this.states & 1023) === 0) o.onProgress?.({ states: this.states, transitions: this.transitions, violations: this.found.size });
      this.path.push(c);
      levels.push(this.level(budgets, monitors, this.enabled));
      this.at = depth;
      if (depth % every === 0) this.snaps[depth] = m.snapshot();
    }
  }

  /** Judges the state a choice led to; true when the path ends here. */
  visit(depth: number, budgets: Int32Array, monitors: readonly unknown[], findings: readonly Finding[], parent: Level, frontierAt: number | undefined): boolean {
    const m = this.m;
    const judged = this.checkState();
    if (this.report(findings.length === 0 ? judged : [...findings, ...judged])) return true;
    const key = `${m.hash()}|${depth}|${budgets.join(',')}|${this.monitorDigest(monitors)}`;
    if (this.visited.has(key)) {
      // The reduction's proviso: a reduced node whose private step leads somewhere seen is expanded in full.
      if (parent.deferred) {
        parent.choices.push(...parent.deferred);
        parent.deferred = null;
      }
      return true;
    }
    this.visited.add(key);
    this.states++;
    const done = this.o.done?.(m, monitors) ?? false;
    this.enabled = this.choices(budgets);
    if (done || this.enabled.length === 0) {
      const fin: Finding[] = [];
      if (!done && this.o.done) fin.push({ invariant: 'stuck', detail: 'no CPU can run and the scenario is not done' });
      this.monitors.forEach((x, i) => fin.push(...(x.final?.(m, monitors[i]) ?? [])));
      this.report(fin);
      return true;
    }
    if (depth >= this.o.maxDepth) {
      this.bounded = true;
      return true;
    }
    if (frontierAt !== undefined && depth >= frontierAt) {
      const prefix = this.path.slice();
      this.frontier.push({ prefix, key });
      this.cache?.keep(key, { prefix, snapshot: m.snapshot(), budgets: budgets.slice(), monitors });
      return true;
    }
    return false;
  }

  /**
   * The monitors' keys digested to 64 bits. Monitor keys change only when something happens
   * (an NMI, an iret), so the digest of the last few keys is kept: a monitor that returns the
   * same string object for an unchanged state costs one lookup.
   */
  monitorDigest(monitors: readonly unknown[]): string {
    if (this.monitors.length === 0) return '';
    const text = this.monitors.length === 1 ? this.monitors[0]!.key(monitors[0]) : this.monitors.map((x, i) => x.key(monitors[i])).join('|');
    let d = this.digests.get(text);
    if (d === undefined) {
      if (this.digests.size >= 4096) this.digests.clear();
      d = digest(text);
      this.digests.set(text, d);
    }
    return d;
  }

  level(budgets: Int32Array, monitors: readonly unknown[], all: Choice[] = this.choices(budgets)): Level {
    if (this.reduce) {
      for (let cpu = 0; cpu < this.ncpu; cpu++) {
        if (this.visible[cpu] || !all.some((c) => c.kind === 'step' && c.cpu === cpu)) continue;
        if (all.some((c) => c.kind === 'event' && c.cpu === cpu)) continue;
        if (!this.private.isPrivate(cpu)) continue;
        this.reducedNodes++;
        const ample: Choice = { kind: 'step', cpu };
        return { choices: [ample], next: 0, budgets, monitors, deferred: all.filter((c) => !(c.kind === 'step' && c.cpu === cpu)) };
      }
    }
    return { choices: all, next: 0, budgets, monitors, deferred: null };
  }

  /** Every choice enabled now: runnable CPUs step; event sources with budget fire where they would change what happens. */
  choices(budgets: Int32Array): Choice[] {
    const m = this.m;
    const out: Choice[] = [];
    for (let cpu = 0; cpu < this.ncpu; cpu++) if (m.isRunnable(cpu)) out.push(this.stepChoices[cpu]!);
    this.events.forEach((s, i) => {
      for (const cpu of s.cpus ?? m.cpus.map((_, k) => k)) {
        if (budgets[i * this.ncpu + cpu]! <= 0 || !offered(m, s, cpu)) continue;
        out.push(this.eventChoices[i * this.ncpu + cpu]!);
      }
    });
    return out;
  }

  apply(c: Choice, mon: readonly unknown[], budgets: Int32Array): { monitors: unknown[]; findings: Finding[] } {
    const m = this.m;
    const before = this.monitors.map((x, i) => (x.before ? x.before(m, c, mon[i]) : mon[i]));
    const ipis = this.reduce && this.reducedNodes > 0 && c.kind === 'step' ? m.cpus[c.cpu]!.counters.ipisSent : -1;
    if (c.kind === 'event') {
      const s = this.sources.get(c.source)!;
      budgets[this.events.indexOf(s) * this.ncpu + c.cpu]!--;
      fire(m, s, c.cpu);
    } else applyChoice(m, c, this.sources);
    // An IPI breaks the assumption that a private step commutes with everything others do: start over without the reduction.
    if (ipis >= 0 && m.cpus[c.cpu]!.counters.ipisSent !== ipis) throw new Restart();
    const findings: Finding[] = [];
    const monitors = this.monitors.map((x, i) => {
      const r = x.after(m, c, before[i]);
      if (r.findings) findings.push(...r.findings);
      return r.state;
    });
    return { monitors, findings };
  }

  /** Brings the machine to the path's state at `depth`: the nearest snapshot at or above it, then a replay. */
  goto(depth: number): void {
    let s = depth;
    while (this.snaps[s] === undefined) s--;
    this.m.restore(this.snaps[s]!);
    for (let i = s; i < depth; i++) applyChoice(this.m, this.path[i]!, this.sources);
    this.at = depth;
  }

  checkState(): Finding[] {
    const m = this.m;
    const out: Finding[] = [];
    for (const c of m.cpus) {
      if (c.status === 'dead') out.push({ invariant: 'fatal', detail: `CPU ${c.id} died: ${c.deathReason}` });
      else if (c.status !== 'offline') for (const [name, addr] of this.fatal) if (c.rip === addr) out.push({ invariant: 'fatal', detail: `CPU ${c.id} reached ${name}` });
    }
    for (const inv of this.o.invariants ?? []) {
      const v = inv.check(m);
      if (v !== undefined) out.push({ invariant: inv.name, detail: v });
    }
    return out;
  }

  /** Records findings (the shortest schedule per invariant wins); true when there were any. */
  report(findings: readonly Finding[]): boolean {
    for (const f of findings) {
      const old = this.found.get(f.invariant);
      if (!old || shorterSchedule(this.path, old.schedule)) this.found.set(f.invariant, { ...f, schedule: this.path.slice() });
    }
    return findings.length > 0;
  }
}

/** 64 bits of a string (two FNV-1a lanes): keeps visited keys short; as strong as the machine's own 64-bit hash. */
function digest(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 15);
  }
  return (a >>> 0).toString(36) + ':' + (b >>> 0).toString(36);
}

/** Whether firing the source at this CPU now can change what happens (see EventSource). */
function offered(m: Machine, s: EventSource, cpu: number): boolean {
  const c = m.cpus[cpu]!;
  if (c.status !== 'running' && c.status !== 'halted') return false;
  if (s.kind === 'nmi' && (c.nmiBlocked || c.nmiPending)) return false;
  if (s.kind === 'irq' && (!c.interruptsEnabled || c.irqPending)) return false;
  return s.enabled ? s.enabled(m, cpu) : true;
}
