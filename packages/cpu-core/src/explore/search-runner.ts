import { CpuError } from '../errors.js';
import type { Machine, Snapshot } from '../machine/machine.js';
import type { SearchOptions } from './model.js';
import { Restart, Search } from './search.js';
import type { RunOptions, RunResult } from './search.js';
import { VisitedSet } from './visited-set.js';

/**
 * The search engine (see the README): depth-first over every choice, with a visited set keyed
 * on the machine's hash, the depth, the budgets left and the monitors' states. Because the
 * depth is part of the key, each (state, depth) pair is visited once and the shortest schedule
 * reaching each violation is found whatever the order. Backtracking restores the nearest
 * snapshot on the current path and replays the choices below it; a node with more than one
 * choice gets a snapshot when the nearest one above it is `checkpointEvery` levels up (a
 * snapshot costs far more than a step, and backtracking comes back only to such nodes). The machine is left as it was.
 */
export function runSearch(machine: Machine, options: SearchOptions, run: RunOptions = {}): RunResult {
  const runner = new SearchRunner(machine, options);
  try {
    return runner.run(run);
  } finally {
    runner.goHome();
  }
}

/**
 * Runs searches from one machine's start state again and again (the jobs of a plan): one engine
 * for all of them, the start state captured once. A run leaves the machine where it ended (the
 * next run restores its own start, or the start state when it must replay a prefix from it);
 * `goHome` brings it back.
 */
export class SearchRunner {
  readonly #m: Machine;
  readonly #o: SearchOptions;
  readonly #reducing: Search;
  #plain: Search | undefined;
  readonly home: Snapshot;
  #atHome = true;

  constructor(machine: Machine, options: SearchOptions) {
    if (!Number.isInteger(options.maxDepth) || options.maxDepth < 1) throw new CpuError('KERNSIM_CPU_BAD_ARGUMENT', `maxDepth must be a positive integer, got ${options.maxDepth}`);
    const every = options.checkpointEvery ?? 24;
    if (!Number.isInteger(every) || every < 1) throw new CpuError('KERNSIM_CPU_BAD_ARGUMENT', `checkpointEvery must be a positive integer, got ${every}`);
    this.#m = machine;
    this.#o = options;
    this.#reducing = new Search(machine, options, options.reduction ?? true);
    this.home = machine.snapshot();
  }

  get options(): SearchOptions {
    return this.#o;
  }

  run(run: RunOptions): RunResult {
    // A run cut short by a Restart added states it did not finish exploring: they go out of a shared visited set again.
    run.visited?.mark();
    try {
      const r = this.#once(this.#reducing, run);
      run.visited?.commit();
      return r;
    } catch (e) {
      if (!(e instanceof Restart)) {
        run.visited?.commit();
        throw e;
      }
      run.visited?.rollback();
      this.#plain ??= new Search(this.#m, this.#o, false);
      // A shared table keeps the cut-short run's keys (other threads may have skipped those states
      // already): the run without the reduction then searches the job's whole subtree on a set of
      // its own, so every state it reaches is searched, those included.
      const again = run.visited?.shared ? { ...run, visited: new VisitedSet() } : run;
      return { ...this.#once(this.#plain, again), reductionWithdrawn: true };
    }
  }

  #once(s: Search, run: RunOptions): RunResult {
    // A run restores its start snapshot itself; one that replays its prefix needs the start state.
    if (!run.start) this.goHome();
    this.#atHome = false;
    try {
      return s.run(run, this.home);
    } catch (e) {
      this.goHome();
      throw e;
    }
  }

  /** Brings the machine back to the start state. */
  goHome(): void {
    if (this.#atHome) return;
    this.#m.restore(this.home);
    this.#atHome = true;
  }
}
