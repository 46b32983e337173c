// The search engine's figures: states per second on one core (in this thread) and on two
// (tinypool workers), with the ratio, on a tree-shaped model (one CPU, NMIs arriving
// anywhere: the shape of an NMI-window search); and what the reduction saves on the
// counter model (CPUs interleaving register work and a shared increment).
import { availableParallelism, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { searchInJobs } from '../src/explore/jobs.js';
import { SearchPlan } from '../src/explore/plan.js';
import { SearchPool } from '../src/explore/pool.js';
import { buildCounterModel, buildNmiToyModel } from '../src/testing/counter-model.js';
import type { CounterModelParams, NmiToyParams } from '../src/testing/counter-model.js';
import { KeyBuilder, VisitedSet } from '../src/explore/visited-set.js';

const toy: NmiToyParams = { length: 300, nmis: 2 };
const counter: CounterModelParams = { cpus: 3, work: 12, atomic: false, reduction: false };
const CHUNK = 24;

export async function exploreBench(): Promise<void> {
  const { machine, options } = buildNmiToyModel(toy);
  const t0 = performance.now();
  const one = await searchInJobs(machine, options, new SearchPlan(toy, CHUNK));
  const s1 = one.states / ((performance.now() - t0) / 1000);
  const load1 = loadavg()[0]!;
  // Two threads as a user gets them: the pool starts inside the timing (this thread searches while the worker loads), and the worker's start-up is printed apart.
  const ref = { module: new URL('../src/testing/counter-model.ts', import.meta.url).href, export: 'buildNmiToyModel', params: toy };
  const t1 = performance.now();
  const pool = new SearchPool(2);
  const two = await pool.run(ref, new SearchPlan(toy, CHUNK));
  const s2 = two.states / ((performance.now() - t1) / 1000);
  const [worker, here] = pool.stats;
  const wall = performance.now() - t1;
  await pool.destroy();
  const load = `load average ${load1.toFixed(1)} then ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} cores`;
  console.log(`cpu-core.explore-states-1-core: ${s1.toFixed(0)} states/s (${one.states} states)`);
  console.log(`cpu-core.explore-states-2-cores: ${s2.toFixed(0)} states/s (${two.states} states: ${here!.states} in this thread, ${worker!.states} in the worker)`);
  console.log(`cpu-core.explore-worker-start: ${worker!.readyMs.toFixed(0)} ms (until the worker could take tasks; it then searched ${worker!.searchMs.toFixed(0)} ms of ${(wall - worker!.readyMs).toFixed(0)}, this thread ${here!.searchMs.toFixed(0)} ms of ${wall.toFixed(0)})`);
  console.log(`cpu-core.explore-2-core-speedup: ${(s2 / s1).toFixed(2)} x (${load})`);
  const c = buildCounterModel(counter);
  const full = await searchInJobs(c.machine, c.options, new SearchPlan(counter, CHUNK));
  const reduced = await searchInJobs(c.machine, { ...c.options, reduction: true }, new SearchPlan(counter, CHUNK));
  console.log(`cpu-core.explore-reduction-states: ${reduced.states} of ${full.states} states (3 CPUs, 14 instructions each)`);
  visitedBench(2_000_000);
}

/** The visited set alone: adds a second and heap bytes a state, for distinct 64-bit keys as the engine makes them. */
function visitedBench(n: number): void {
  const set = new VisitedSet();
  const k = new KeyBuilder();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    k.begin(i, i >>> 3);
    k.mix(i & 1023);
    k.finish();
    set.add(k.a, k.b);
  }
  const s = (performance.now() - t0) / 1000;
  console.log(`cpu-core.explore-visited-adds: ${(n / s / 1e6).toFixed(2)} M adds/s (${set.size} keys, load average ${loadavg()[0]!.toFixed(1)})`);
  console.log(`cpu-core.explore-visited-bytes: ${(set.bytes / set.size).toFixed(1)} bytes/state`);
}
