import { CpuError } from '../errors.js';
import { JobQueue } from './job-queue.js';
import { sameChoice } from './model.js';
import type { Choice, SearchResult, Violation } from './model.js';

/** A subtree of the search: the schedule that leads to its root, and that root's state key. */
export interface SearchJob {
  readonly prefix: readonly Choice[];
  readonly key: string;
}

/** What one job found: its counts and violations, and the subtrees it did not enter. */
export interface JobOutcome {
  readonly states: number;
  readonly transitions: number;
  readonly schedules: number;
  readonly violations: readonly Violation[];
  /** The job hit its state budget or a stop (its subtree is not covered). */
  readonly cut: boolean;
  /** Some path ended at the depth bound. */
  readonly bounded: boolean;
  readonly depth: number;
  readonly reducedNodes: number;
  readonly reductionWithdrawn: boolean;
  readonly frontier: readonly SearchJob[];
  /** Keys of subtrees it entered beyond its own jobs (a batch: see `runBatch`); the plan hands them out no more. */
  readonly explored?: readonly string[];
}

/** A plan as saved in a checkpoint file (JSON). */
export interface PlanData {
  readonly version: 1;
  /** Whatever the caller needs to rebuild the model (CLI options, a model reference). */
  readonly model: unknown;
  readonly chunk: number;
  readonly queue: readonly SearchJob[];
  readonly seen: readonly string[];
  readonly totals: { readonly states: number; readonly transitions: number; readonly schedules: number; readonly depth: number; readonly reducedNodes: number; readonly jobs: number };
  readonly cut: boolean;
  readonly bounded: boolean;
  readonly withdrawn: boolean;
  readonly violations: readonly Violation[];
}

/** Shorter first, then the schedule's text: a total order, so the kept counterexample does not depend on which job finished first. */
export function better(a: Violation, b: Violation): boolean {
  return shorterSchedule(a.schedule, b.schedule);
}

/**
 * Whether schedule `a` comes before `b`: shorter first, then by JSON text. The text is compared
 * at the first choice that differs only: a choice's JSON is a closed object, never a proper
 * prefix of another's, so that decides the whole texts' order without printing them.
 */
export function shorterSchedule(a: readonly Choice[], b: readonly Choice[]): boolean {
  if (a.length !== b.length) return a.length < b.length;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (sameChoice(x, y)) continue;
    return JSON.stringify(x) < JSON.stringify(y);
  }
  return false;
}

/**
 * The work of one search as a queue of subtree jobs (pure: no threads, no files). Each job
 * explores `chunk` levels below its prefix and hands back the nodes below that as new jobs;
 * a node whose state key another job already handed back is dropped (the two subtrees are the
 * same), which keeps most of the visited-state pruning across jobs.
 */
export class SearchPlan {
  readonly model: unknown;
  readonly chunk: number;
  /**
   * Queued jobs by finder: index 0 holds the jobs of no thread (the root, a checkpoint's, those
   * `complete` got without an owner), index t + 1 those pool thread t handed back (it holds
   * their starts, see `FrontierCache`). Each is first in, first out.
   */
  readonly #queues: JobQueue<SearchJob>[];
  /** Jobs taken and not yet completed or given back, with the queue each came from: a checkpoint keeps them as queued (a resume runs them again). */
  readonly #running = new Map<SearchJob, number>();
  readonly #seen: Set<string>;
  /** Queued jobs whose subtrees a batch entered on its own since (another thread found them too): dropped when reached. */
  readonly #entered = new Set<string>();
  readonly #found = new Map<string, Violation>();
  #totals: { states: number; transitions: number; schedules: number; depth: number; reducedNodes: number; jobs: number };
  #cut: boolean;
  #bounded: boolean;
  #withdrawn: boolean;

  constructor(model: unknown, chunk: number, data?: PlanData) {
    if (!Number.isInteger(chunk) || chunk < 1) throw new CpuError('KERNSIM_CPU_BAD_ARGUMENT', `chunk must be a positive integer, got ${chunk}`);
    this.model = model;
    this.chunk = chunk;
    this.#queues = [new JobQueue(data ? data.queue : [{ prefix: [], key: 'root' }])];
    this.#seen = new Set(data?.seen ?? []);
    this.#totals = data ? { ...data.totals } : { states: 0, transitions: 0, schedules: 0, depth: 0, reducedNodes: 0, jobs: 0 };
    this.#cut = data?.cut ?? false;
    this.#bounded = data?.bounded ?? false;
    this.#withdrawn = data?.withdrawn ?? false;
    for (const v of data?.violations ?? []) this.#keep(v);
  }

  /** The next job (the oldest of no thread, then of each thread in turn), or undefined when none is queued (some may still be running). */
  take(): SearchJob | undefined {
    return this.takeBatch(1)[0];
  }

  /**
   * Up to `max` jobs for one round trip to a thread, oldest first. With `owner` (a pool's
   * thread), the jobs that thread handed back, and only when it has none one job found
   * elsewhere (of no thread first, else the oldest of the thread with most queued): a job found
   * elsewhere replays its prefix from the start state (hundreds of choices, monitors included,
   * ~2 ms in an NMI window), and the thread goes on below it (its subtrees are then its own).
   */
  takeBatch(max: number, owner?: number): SearchJob[] {
    const out: SearchJob[] = [];
    const from = (q: number, n: number): void => {
      const queue = this.#queues[q];
      while (queue && out.length < n) {
        const job = queue.shift();
        if (!job) return;
        if (this.#entered.delete(job.key)) continue;
        this.#running.set(job, q);
        out.push(job);
      }
    };
    if (owner !== undefined) {
      from(owner + 1, max);
      if (out.length > 0) return out;
      max = 1;
    }
    from(0, max);
    // Stolen from the thread with most queued (its other jobs keep their starts).
    const order = this.#queues.map((q, i) => [i, q.length] as const).filter(([i]) => i > 0 && i !== (owner ?? -1) + 1);
    order.sort((a, b) => b[1] - a[1]);
    for (const [q] of order) from(q, max);
    return out;
  }

  /** Jobs queued that `owner` handed back (a pool's thread). */
  ownedBy(owner: number): number {
    return this.#queues[owner + 1]?.length ?? 0;
  }

  /** Puts jobs back (taken but not run: a stop, a failure) at the front of the queues they came from, in the order they were taken. */
  giveBack(jobs: SearchJob | readonly SearchJob[]): void {
    const list = Array.isArray(jobs) ? (jobs as readonly SearchJob[]) : [jobs as SearchJob];
    for (let i = list.length - 1; i >= 0; i--) {
      const job = list[i]!;
      const q = this.#running.get(job) ?? 0;
      this.#running.delete(job);
      this.#queues[q]!.unshift(job);
    }
  }

  /** Jobs queued that no thread handed back (the plan's first job, or ones a stop gave back). */
  get unowned(): number {
    return this.#queues[0]?.length ?? 0;
  }

  get pending(): number {
    let n = 0;
    for (const q of this.#queues) n += q.length;
    return n;
  }

  get states(): number {
    return this.#totals.states;
  }

  get violationCount(): number {
    return this.#found.size;
  }

  /**
   * Counts what a job or a batch of jobs (as `take` returned them) found and queues the subtrees
   * handed back: as `owner`'s (the pool thread that found them and holds their starts), or of no
   * thread. A batch's own jobs it did not start go back where they came from.
   */
  complete(jobs: SearchJob | readonly SearchJob[], o: JobOutcome, owner?: number): void {
    const list = Array.isArray(jobs) ? (jobs as readonly SearchJob[]) : [jobs as SearchJob];
    for (const job of list) if (!this.#running.has(job)) throw new CpuError('KERNSIM_CPU_BAD_ARGUMENT', `complete: job ${job.key} is not running (not taken, or completed twice)`);
    const t = this.#totals;
    t.states += o.states;
    t.transitions += o.transitions;
    t.schedules += o.schedules;
    t.depth = Math.max(t.depth, o.depth);
    t.reducedNodes += o.reducedNodes;
    t.jobs += list.length + (o.explored?.length ?? 0);
    this.#cut ||= o.cut;
    this.#bounded ||= o.bounded;
    this.#withdrawn ||= o.reductionWithdrawn;
    for (const v of o.violations) this.#keep(v);
    for (const key of o.explored ?? []) {
      if (this.#seen.has(key)) this.#entered.add(key);
      else this.#seen.add(key);
    }
    // A batch hands back the jobs of its own it did not start (their keys are seen already).
    const own = list.length > 1 ? new Map(list.map((j) => [j.key, j])) : undefined;
    const unstarted: SearchJob[] = [];
    const queue = this.#queue(owner);
    for (const j of o.frontier) {
      const mine = own?.get(j.key);
      if (mine) {
        t.jobs--;
        unstarted.push(mine);
        continue;
      }
      if (this.#seen.has(j.key)) continue;
      this.#seen.add(j.key);
      queue.push(j);
    }
    this.giveBack(unstarted);
    for (const job of list) this.#running.delete(job);
  }

  #queue(owner: number | undefined): JobQueue<SearchJob> {
    const q = owner === undefined ? 0 : owner + 1;
    while (this.#queues.length <= q) this.#queues.push(new JobQueue());
    return this.#queues[q]!;
  }

  /** Marks the search as cut short (a stop or the global state budget) without running what is queued. */
  stop(): void {
    if (this.pending > 0) this.#cut = true;
  }

  #keep(v: Violation): void {
    const old = this.#found.get(v.invariant);
    if (!old || better(v, old)) this.#found.set(v.invariant, v);
  }

  result(): SearchResult {
    const violations = [...this.#found.values()].sort((a, b) => a.schedule.length - b.schedule.length || a.invariant.localeCompare(b.invariant));
    const cut = this.#cut || this.pending > 0 || this.#running.size > 0;
    const t = this.#totals;
    return {
      verdict: violations.length > 0 ? 'violated' : cut ? 'incomplete' : 'verified',
      states: t.states,
      transitions: t.transitions,
      schedules: t.schedules,
      violations,
      exhaustive: !cut && !this.#bounded,
      depth: t.depth,
      reducedNodes: t.reducedNodes,
      reductionWithdrawn: this.#withdrawn,
    };
  }

  get jobsRun(): number {
    return this.#totals.jobs;
  }

  toData(): PlanData {
    return {
      version: 1,
      model: this.model,
      chunk: this.chunk,
      // A running job's subtree is in no outcome yet: if the process dies now, the resume must run it.
      queue: [...this.#running.keys(), ...this.#queues.flatMap((q) => q.toArray())],
      seen: [...this.#seen],
      totals: { ...this.#totals },
      cut: this.#cut,
      bounded: this.#bounded,
      withdrawn: this.#withdrawn,
      violations: [...this.#found.values()],
    };
  }

  /** Rebuilds a plan from `JSON.stringify(plan.toData())`; a file that is not one throws `KERNSIM_CPU_CHECKPOINT`. */
  static fromJSON(text: string): SearchPlan {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (e) {
      throw new CpuError('KERNSIM_CPU_CHECKPOINT', 'checkpoint is not JSON', { cause: e });
    }
    if (!isPlanData(data)) throw new CpuError('KERNSIM_CPU_CHECKPOINT', 'checkpoint: expected a version 1 search plan (version, model, chunk, queue, seen, totals, violations)');
    return new SearchPlan(data.model, data.chunk, data);
  }
}

function isPlanData(d: unknown): d is PlanData {
  if (typeof d !== 'object' || d === null) return false;
  const x = d as Record<string, unknown>;
  return x.version === 1 && typeof x.chunk === 'number' && Array.isArray(x.queue) && Array.isArray(x.seen) && Array.isArray(x.violations) && typeof x.totals === 'object' && x.totals !== null && x.queue.every(isJob);
}

function isJob(j: unknown): boolean {
  if (typeof j !== 'object' || j === null) return false;
  const x = j as Record<string, unknown>;
  return typeof x.key === 'string' && Array.isArray(x.prefix) && x.prefix.every((c) => typeof c === 'object' && c !== null && typeof (c as { cpu?: unknown }).cpu === 'number');
}
