import { CpuError } from '../errors.js';
import type { Machine, Snapshot } from '../machine/machine.js';
import type { Choice, EventSource, Finding, Invariant, Monitor, SearchOptions, SearchResult, Violation } from './model.js';
import type { FrontierCache, FrontierState } from './frontier-cache.js';
import type { SearchJob } from './plan.js';
import { shorterSchedule } from './plan.js';
import { PrivateSteps } from './reduction.js';
import { applyChoice, fire, sourceMap } from './replay.js';
import { KeyBuilder, VisitedSet } from './visited-set.js';
import { MonitorDigests } from './monitor-digests.js';
import { EnabledChoices } from './enabled-choices.js';

/** A node of the depth-first search: its choices, which one is next, and what the path carries there. */
interface Level {
  choices: Choice[];
  next: number;
  budgets: Int32Array;
  monitors: readonly unknown[];
  /** When the node was reduced to one private step: the choices left out (added back by the proviso). */
  deferred: Choice[] | null;
  /** The memory-and-mappings hash of the node (memory-only invariants held there). */
  memA: number;
  memB: number;
  /** Depth of the nearest snapshot at or above the node on the path. */
  snap: number;
  /** The node's depth (its path's length): a run of one-choice nodes between levels has none of its own. */
  depth: number;
}

/**
 * One-choice nodes store a visited key only at depths that are multiples of this (`keyEvery`).
 * A run of them (one CPU stepping where no event can arrive) is one path whatever is pruned,
 * and two runs that meet at a state go on in step, so they still meet at the next multiple:
 * fewer than this many states are searched twice where one run joins another. Keying costs a
 * CPU hash and a visited-set probe; most of the NMI windows' states are such runs, which
 * rarely meet (2 324 times in the `breakpoint` start's 5.45 M).
 */
const KEY_EVERY = 8;

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
  readonly visited?: VisitedSet;
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

/** Thrown when an IPI breaks the reduction's assumption: the run starts over without it. */
export class Restart extends Error {}

const NOT_AT_PATH = -1;
const NO_FINDINGS: readonly Finding[] = Object.freeze([]);

/** One search engine on one machine: its choice lists, levels and caches are kept from run to run (`reset`). */
export class Search {
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
  readonly invariants: readonly Invariant[];
  readonly enabledChoices: EnabledChoices;
  readonly keyEvery: number;
  /** The levels of the depth-first search's stack, reused from run to run. */
  readonly levels: Level[] = [];
  /** The choices of the node `visit` just judged (the level built on it takes them). */
  enabled: Choice[] = [];
  visited: VisitedSet | undefined;
  /** What the monitors reported during the last `apply` (reused: read before the next one). */
  readonly findings: Finding[] = [];
  /** The monitors' states between `before` and `after` (reused). */
  readonly pre: unknown[];
  readonly key = new KeyBuilder();
  /** The machine's hash, then its memory-and-mappings part (see `Machine.hashWords`). */
  readonly words = new Int32Array(4);
  /** The memory-and-mappings hash of the state `stateKey` or `memoryHash` last saw. */
  memA = 0;
  memB = 0;
  readonly found = new Map<string, Violation>();
  /** The parent `visit` gets for a node inside a run of one-choice nodes: nothing deferred, the previous node's memory hash. */
  readonly chainParent: Level = { choices: [], next: 0, budgets: new Int32Array(0), monitors: [], deferred: null, memA: 0, memB: 0, snap: 0, depth: 0 };
  frontier: SearchJob[] = [];
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
  readonly monitorDigests: MonitorDigests;

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
    this.invariants = o.invariants ?? [];
    this.keyEvery = o.keyEvery ?? KEY_EVERY;
    if (!Number.isInteger(this.keyEvery) || this.keyEvery < 1) throw new CpuError('KERNSIM_CPU_BAD_ARGUMENT', `keyEvery must be a positive integer, got ${this.keyEvery}`);
    this.fatal = (o.fatalSymbols ?? []).map((s) => [s, m.address(s)] as const);
    this.enabledChoices = new EnabledChoices(m, this.events);
    this.pre = this.monitors.map(() => undefined);
    this.monitorDigests = new MonitorDigests(this.monitors);
    for (const s of this.events) for (const c of s.cpus ?? []) if (!Number.isInteger(c) || c < 0 || c >= this.ncpu) throw new CpuError('KERNSIM_CPU_BAD_ARGUMENT', `event source ${s.name} names CPU ${c}; the machine has CPUs 0..${this.ncpu - 1}`);
  }

  /** Resets the per-run counts and results (the engine, its caches and its choice objects are kept). */
  reset(run: RunOptions): void {
    this.visited = run.visited ?? new VisitedSet();
    this.found.clear();
    this.frontier = [];
    this.path.length = 0;
    // Cleared, not truncated: an array written first at index 800 (a job's start) has no dense
    // storage to index into, and backtracking scans it level by level.
    this.snaps.fill(undefined);
    this.states = 0;
    this.transitions = 0;
    this.schedules = 0;
    this.deepest = 0;
    this.reducedNodes = 0;
    this.cut = false;
    this.bounded = false;
    this.monitorDigests.reset();
  }

  /** One search from `home` (the machine is there unless `run.start` is given); the machine is left where it ended. */
  run(run: RunOptions, home: Snapshot): RunResult {
    const m = this.m;
    this.reset(run);
    const budgets = new Int32Array(this.events.length * this.ncpu);
    this.events.forEach((s, i) => budgets.fill(s.budget, i * this.ncpu, (i + 1) * this.ncpu));
    const start = run.start;
    let mon: readonly unknown[];
    if (start) {
      // The node's anchor, then the choices below it (no monitors: their states at the node are kept).
      m.restore(start.anchor ?? home);
      for (let i = start.anchorDepth; i < start.prefix.length; i++) applyChoice(m, start.prefix[i]!, this.sources);
      budgets.set(start.budgets);
      mon = start.monitors.slice();
      this.path.push(...start.prefix);
    } else {
      mon = this.monitors.map((x) => x.init(m));
      for (const c of run.prefix ?? []) {
        mon = this.apply(c, mon, budgets);
        this.path.push(c);
      }
    }
    const base = this.path.length;
    while (this.snaps.length <= base) this.snaps.push(undefined);
    // The nearest snapshot on the path: the start state, the node's anchor (backtracking replays from there), or one taken now.
    let snap = base;
    if (base === 0) this.snaps[0] = home;
    else if (start?.anchor !== undefined) {
      snap = start.anchorDepth;
      this.snaps[snap] = start.anchor;
    } else this.snaps[base] = m.snapshot();
    this.at = base;
    this.cache = run.frontierCache;
    this.memoryHash();
    if (!this.report(this.checkState(false))) this.dfs(base, snap, budgets, mon, run.frontierAt);
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

  dfs(base: number, snap: number, budgets0: Int32Array, mon0: readonly unknown[], frontierAt: number | undefined): void {
    const m = this.m;
    const o = this.o;
    const maxStates = o.maxStates ?? 1_000_000;
    const every = o.checkpointEvery ?? 24;
    const levels = this.levels;
    const path = this.path;
    let top = 0;
    this.level(top++, budgets0, mon0, this.choices(budgets0), base);
    levels[0]!.snap = snap;
    if (levels[0]!.choices.length > 1 && base - snap >= every) {
      this.snaps[base] = m.snapshot();
      levels[0]!.snap = base;
    }
    while (top > 0) {
      const L = levels[top - 1]!;
      const d = L.depth;
      if (L.next >= L.choices.length) {
        top--;
        if (top > 0) path.length = levels[top - 1]!.depth;
        this.snaps[d] = undefined;
        this.at = NOT_AT_PATH;
        continue;
      }
      let c = L.choices[L.next++]!;
      if (this.at !== d) this.goto(d);
      // A step leaves the budgets as they were: the child shares its parent's (never written after).
      let budgets = c.kind === 'event' ? L.budgets.slice() : L.budgets;
      let monitors = this.apply(c, L.monitors, budgets);
      let parent = L;
      let depth = d;
      // The child, then while it has one choice, that choice's child: a run of one-choice nodes takes no level.
      for (;;) {
        this.at = NOT_AT_PATH;
        this.transitions++;
        depth++;
        if (depth > this.deepest) this.deepest = depth;
        path.push(c);
        if (this.visit(depth, budgets, monitors, this.findings, parent, frontierAt)) {
          path.length = d;
          this.schedules++;
          break;
        }
        if (this.states >= maxStates || ((this.states & 1023) === 0 && (o.shouldStop?.() ?? false))) {
          path.length = d;
          this.cut = true;
          return;
        }
        if ((this.states & 1023) === 0) o.onProgress?.({ states: this.states, transitions: this.transitions, violations: this.found.size });
        if (this.enabled.length !== 1) {
          this.level(top++, budgets, monitors, this.enabled, depth);
          this.at = depth;
          // Backtracking comes back only to nodes with choices left: those get a snapshot when the nearest is `every` levels up.
          const N = levels[top - 1]!;
          N.snap = L.snap;
          if (N.choices.length > 1 && depth - L.snap >= every) {
            this.snaps[depth] = m.snapshot();
            N.snap = depth;
          }
          break;
        }
        c = this.enabled[0]!;
        if (c.kind === 'event') budgets = budgets.slice();
        monitors = this.apply(c, monitors, budgets);
        parent = this.chainParent;
        parent.memA = this.memA;
        parent.memB = this.memB;
      }
    }
  }

  /** Judges the state a choice led to; true when the path ends here. */
  visit(depth: number, budgets: Int32Array, monitors: readonly unknown[], findings: readonly Finding[], parent: Level, frontierAt: number | undefined): boolean {
    const m = this.m;
    const enabled = this.choices(budgets);
    // A reduced parent's proviso needs to know whether its private step led somewhere seen: that child is keyed.
    const keyed = enabled.length !== 1 || depth % this.keyEvery === 0 || parent.deferred !== null;
    let k: KeyBuilder | undefined;
    if (keyed) k = this.stateKey(depth, budgets, monitors);
    else {
      this.m.memoryHashWords(this.words);
      this.memA = this.words[0]!;
      this.memB = this.words[1]!;
    }
    // Memory-only invariants held at the parent: they hold here too if no byte or mapping changed.
    const judged = this.checkState(this.memA === parent.memA && this.memB === parent.memB);
    if (this.report(findings.length === 0 ? judged : judged.length === 0 ? findings : [...findings, ...judged])) return true;
    if (k !== undefined && !this.visited!.add(k.a, k.b)) {
      // The reduction's proviso: a reduced node whose private step leads somewhere seen is expanded in full.
      if (parent.deferred) {
        parent.choices.push(...parent.deferred);
        parent.deferred = null;
      }
      return true;
    }
    this.states++;
    const done = this.o.done?.(m, monitors) ?? false;
    this.enabled = enabled;
    if (done || enabled.length === 0) {
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
    // A one-choice node is not handed back: its run is one path, with nothing to split.
    if (frontierAt !== undefined && depth >= frontierAt && k !== undefined && enabled.length > 1) {
      const prefix = this.path.slice();
      const key = k.text();
      this.frontier.push({ prefix, key });
      if (this.cache) {
        // The nearest snapshot on the path (the node's own would cost a capture and its frames), unless it is far up.
        let s = depth - 1;
        while (this.snaps[s] === undefined) s--;
        const far = depth - s > 4 * (this.o.checkpointEvery ?? 24);
        this.cache.keep(key, { prefix, anchor: far ? m.snapshot() : this.snaps[s], anchorDepth: far ? depth : s, budgets: budgets.slice(), monitors });
      }
      return true;
    }
    return false;
  }

  /** The state's visited key: the machine's hash, the depth, the budgets left and the monitors' digest, as 64 bits. */
  stateKey(depth: number, budgets: Int32Array, monitors: readonly unknown[]): KeyBuilder {
    const k = this.key;
    this.memoryHash();
    k.begin(this.words[0]!, this.words[1]!);
    k.mix(depth);
    for (const b of budgets) k.mix(b);
    if (this.monitors.length > 0) {
      const d = this.monitorDigests.of(monitors);
      k.mix(d[0]);
      k.mix(d[1]);
    }
    k.finish();
    return k;
  }

  /** Sets up the stack's level `i` (reusing its object) for a node whose enabled choices are `all`. */
  level(i: number, budgets: Int32Array, monitors: readonly unknown[], all: Choice[], depth: number): void {
    let choices = all;
    let deferred: Choice[] | null = null;
    if (this.reduce) {
      for (let cpu = 0; cpu < this.ncpu; cpu++) {
        if (this.visible[cpu] || !all.some((c) => c.kind === 'step' && c.cpu === cpu)) continue;
        if (all.some((c) => c.kind === 'event' && c.cpu === cpu)) continue;
        if (!this.private.isPrivate(cpu)) continue;
        this.reducedNodes++;
        // Its own list: the proviso may add the deferred choices to it.
        choices = [this.enabledChoices.steps[cpu]!];
        deferred = all.filter((c) => !(c.kind === 'step' && c.cpu === cpu));
        break;
      }
    }
    const L = this.levels[i];
    if (L === undefined) {
      this.levels[i] = { choices, next: 0, budgets, monitors, deferred, memA: this.memA, memB: this.memB, snap: 0, depth };
      return;
    }
    L.depth = depth;
    L.memA = this.memA;
    L.memB = this.memB;
    L.choices = choices;
    L.next = 0;
    L.budgets = budgets;
    L.monitors = monitors;
    L.deferred = deferred;
  }

  /** Every choice enabled now (a shared list: never write to it). */
  choices(budgets: Int32Array): Choice[] {
    return this.enabledChoices.at(budgets);
  }

  /**
   * Applies a choice (an event takes one from `budgets`) and runs the monitors around it: returns
   * their states (the same array when none changed) and leaves what they found in `findings`.
   */
  apply(c: Choice, mon: readonly unknown[], budgets: Int32Array): readonly unknown[] {
    const m = this.m;
    const n = this.monitors.length;
    const pre = this.pre;
    for (let i = 0; i < n; i++) {
      const x = this.monitors[i]!;
      pre[i] = x.before ? x.before(m, c, mon[i]) : mon[i];
    }
    const ipis = this.reduce && this.reducedNodes > 0 && c.kind === 'step' ? m.cpus[c.cpu]!.ipisSent : -1;
    if (c.kind === 'event') {
      const s = this.sources.get(c.source)!;
      budgets[this.events.indexOf(s) * this.ncpu + c.cpu]!--;
      fire(m, s, c.cpu);
    } else applyChoice(m, c, this.sources);
    // An IPI breaks the assumption that a private step commutes with everything others do: start over without the reduction.
    if (ipis >= 0 && m.cpus[c.cpu]!.ipisSent !== ipis) throw new Restart();
    const findings = this.findings;
    if (findings.length !== 0) findings.length = 0;
    let out: unknown[] | undefined;
    for (let i = 0; i < n; i++) {
      const r = this.monitors[i]!.after(m, c, pre[i]);
      if (r.findings) for (const f of r.findings) findings.push(f);
      if (r.state !== mon[i]) {
        out ??= mon.slice();
        out[i] = r.state;
      }
    }
    return out ?? mon;
  }

  /** Brings the machine to the path's state at `depth`: the nearest snapshot at or above it, then a replay. */
  goto(depth: number): void {
    let s = depth;
    while (this.snaps[s] === undefined) s--;
    this.m.restore(this.snaps[s]!);
    for (let i = s; i < depth; i++) applyChoice(this.m, this.path[i]!, this.sources);
    this.at = depth;
  }

  /** Hashes the machine into `words` and notes the memory-and-mappings part. */
  memoryHash(): void {
    this.m.hashWords(this.words);
    this.memA = this.words[2]!;
    this.memB = this.words[3]!;
  }

  /**
   * What the invariants and fatal symbols say of the current state (a shared empty array when
   * nothing: do not write to it); memory-only invariants are left out when `memoryUnchanged`.
   */
  checkState(memoryUnchanged = false): readonly Finding[] {
    const m = this.m;
    let out: Finding[] | undefined;
    for (const c of m.cpus) {
      const status = c.status;
      if (status === 'dead') (out ??= []).push({ invariant: 'fatal', detail: `CPU ${c.id} died: ${c.deathReason}` });
      else if (status !== 'offline' && this.fatal.length > 0) {
        const rip = c.rip;
        for (const f of this.fatal) if (rip === f[1]) (out ??= []).push({ invariant: 'fatal', detail: `CPU ${c.id} reached ${f[0]}` });
      }
    }
    for (const inv of this.invariants) {
      if (memoryUnchanged && inv.memoryOnly === true) continue;
      const v = inv.check(m);
      if (v !== undefined) (out ??= []).push({ invariant: inv.name, detail: v });
    }
    return out ?? NO_FINDINGS;
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
