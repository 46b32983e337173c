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

const toy: NmiToyParams = { length: 160, nmis: 2 };
const counter: CounterModelParams = { cpus: 3, work: 12, atomic: false, reduction: false };
const CHUNK = 24;

export async function exploreBench(): Promise<void> {
  const { machine, options } = buildNmiToyModel(toy);
  const t0 = performance.now();
  const one = await searchInJobs(machine, options, new SearchPlan(toy, CHUNK));
  const s1 = one.states / ((performance.now() - t0) / 1000);
  const ref = { module: new URL('../src/testing/counter-model.ts', import.meta.url).href, export: 'buildNmiToyModel', params: toy };
  const pool = new SearchPool(2);
  // Worker start-up (from the sources: a tsx child process each) is paid before timing.
  await pool.run({ ...ref, params: { length: 8, nmis: 1 } }, new SearchPlan(null, CHUNK));
  const t1 = performance.now();
  const two = await pool.run(ref, new SearchPlan(toy, CHUNK));
  const s2 = two.states / ((performance.now() - t1) / 1000);
  await pool.destroy();
  console.log(`cpu-core.explore-states-1-core: ${s1.toFixed(0)} states/s (${one.states} states)`);
  console.log(`cpu-core.explore-states-2-cores: ${s2.toFixed(0)} states/s (${two.states} states)`);
  console.log(`cpu-core.explore-2-core-speedup: ${(s2 / s1).toFixed(2)} x (load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} cores)`);
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
