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
  readonly #queue: JobQueue<SearchJob>;
  /** Jobs taken and not yet completed or given back: a checkpoint keeps them as queued (a resume runs them again). */
  readonly #running = new Set<SearchJob>();
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
    this.#queue = new JobQueue(data ? data.queue : [{ prefix: [], key: 'root' }]);
    this.#seen = new Set(data?.seen ?? []);
    this.#totals = data ? { ...data.totals } : { states: 0, transitions: 0, schedules: 0, depth: 0, reducedNodes: 0, jobs: 0 };
    this.#cut = data?.cut ?? false;
    this.#bounded = data?.bounded ?? false;
    this.#withdrawn = data?.withdrawn ?? false;
    for (const v of data?.violations ?? []) this.#keep(v);
  }

  /**
   * The next job, or undefined when none is queued (some may still be running). With `prefer`,
   * the first of the next 256 jobs it accepts, if any (a pool hands a worker the jobs whose
   * start it still holds).
   */
  take(prefer?: (job: SearchJob) => boolean): SearchJob | undefined {
    let job = prefer ? this.#queue.takeFirst(prefer, 256) : undefined;
    if (job && this.#entered.delete(job.key)) job = undefined;
    job ??= this.#next();
    if (job) this.#running.add(job);
    return job;
  }

  /** The oldest queued job no batch entered. */
  #next(): SearchJob | undefined {
    for (;;) {
      const job = this.#queue.shift();
      if (!job || !this.#entered.delete(job.key)) return job;
    }
  }

  /**
   * Up to `max` jobs for one round trip to a thread. With `prefer` (a pool: the jobs whose
   * starts the thread holds), those from anywhere in the queue, and only when there are none
   * the oldest few (`max / 8`): a job found elsewhere replays its prefix from the start state
   * (hundreds of choices, monitors included: ~4 ms in an NMI window).
   */
  takeBatch(max: number, prefer?: (job: SearchJob) => boolean): SearchJob[] {
    const out = prefer ? this.#queue.takeAll(prefer, max).filter((j) => !this.#entered.delete(j.key)) : [];
    // A few jobs found elsewhere: each replays its prefix, and the thread goes on below them.
    const others = prefer ? Math.max(1, max >> 3) : max;
    if (out.length === 0) for (let job = this.#next(); job; job = out.length < others ? this.#next() : undefined) out.push(job);
    for (const job of out) this.#running.add(job);
    return out;
  }

  /** Puts jobs back (taken but not run: a stop, a failure), in the order they were taken. */
  giveBack(jobs: SearchJob | readonly SearchJob[]): void {
    const list = Array.isArray(jobs) ? (jobs as readonly SearchJob[]) : [jobs as SearchJob];
    for (let i = list.length - 1; i >= 0; i--) {
      this.#running.delete(list[i]!);
      this.#queue.unshift(list[i]!);
    }
  }

  get pending(): number {
    return this.#queue.length;
  }

  get states(): number {
    return this.#totals.states;
  }

  get violationCount(): number {
    return this.#found.size;
  }

  /** Counts what a job or a batch of jobs (as `take` returned them) found and queues the subtrees handed back. */
  complete(jobs: SearchJob | readonly SearchJob[], o: JobOutcome): void {
    const list = Array.isArray(jobs) ? (jobs as readonly SearchJob[]) : [jobs as SearchJob];
    for (const job of list) if (!this.#running.has(job)) throw new CpuError('KERNSIM_CPU_BAD_ARGUMENT', `complete: job ${job.key} is not running (not taken, or completed twice)`);
    for (const job of list) this.#running.delete(job);
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
    const own = list.length > 1 ? new Set(list.map((j) => j.key)) : undefined;
    for (const j of o.frontier) {
      if (own?.has(j.key)) {
        t.jobs--;
        this.#queue.push(j);
        continue;
      }
      if (this.#seen.has(j.key)) continue;
      this.#seen.add(j.key);
      this.#queue.push(j);
    }
  }

  /** Marks the search as cut short (a stop or the global state budget) without running what is queued. */
  stop(): void {
    if (this.#queue.length > 0) this.#cut = true;
  }

  #keep(v: Violation): void {
    const old = this.#found.get(v.invariant);
    if (!old || better(v, old)) this.#found.set(v.invariant, v);
  }

  result(): SearchResult {
    const violations = [...this.#found.values()].sort((a, b) => a.schedule.length - b.schedule.length || a.invariant.localeCompare(b.invariant));
    const cut = this.#cut || this.#queue.length > 0 || this.#running.size > 0;
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
      queue: [...this.#running, ...this.#queue.toArray()],
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
