// The explorer on the NMI entries, full budgets: how long the 3.3 window takes with 2 NMIs
// (1 worker and 2), where 3 NMIs get to, and what the weakened variants come to.
import { availableParallelism, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { exploreNmi } from '../src/explore/explore-nmi.js';
import type { NmiExploreOptions } from '../src/explore/explore-nmi.js';

/** Runs one search and prints its line; returns its wall time in seconds. */
async function timed(label: string, o: NmiExploreOptions): Promise<number> {
  const t0 = performance.now();
  const u0 = process.cpuUsage();
  const r = await exploreNmi(o);
  const s = (performance.now() - t0) / 1000;
  // On a shared host the wall time follows the load; this thread's CPU time (the search itself when threads is 1) does not as much.
  const cpu = process.cpuUsage(u0);
  const found = [...new Set(r.violations.map((v) => `${v.invariant}@${v.start}`))].join(' ') || 'none';
  const cut = r.starts.filter((x) => !x.exhaustive).map((x) => x.start);
  const load = loadavg()[0]!.toFixed(1);
  console.log(`${label}: ${s.toFixed(1)} s (${r.verdict}, ${r.states} states, ${(r.states / s).toFixed(0)} states/s, ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s CPU in this process, load ${load} on ${availableParallelism()} cores, violations: ${found}${cut.length ? `, not exhaustive: ${cut.join(' ')}` : ''})`);
  return s;
}

/** One thread, then two, back to back, and the ratio of their wall times (the same states: the pool's threads share one visited table). */
async function pair(label: string, o: NmiExploreOptions): Promise<void> {
  const one = await timed(`${label}-1core`, { ...o, threads: 1 });
  const two = await timed(`${label}-2cores`, { ...o, threads: 2 });
  console.log(`${label}-2-core-speedup: ${(one / two).toFixed(2)} x (load ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} cores)`);
}

const which = process.argv[2];
if (which === undefined || which === 'window') {
  // The article's window: the sampler NMI's #PF in NMI context, every boundary from delivery to the last iretq, 2 more NMIs.
  await pair('nmi.explore-3.3-window-2nmis', { entry: 'nested', starts: ['nmi-perf'], nmis: 2 });
  console.log(`nmi.explore-load: ${loadavg()[0]!.toFixed(1)} load average on ${availableParallelism()} cores`);
}
if (which === undefined || which === 'variants') {
  await timed('nmi.explore-naive-window-2nmis', { entry: 'naive', starts: ['nmi-perf'], nmis: 2 });
  await timed('nmi.explore-without-repeatGuard-2nmis', { entry: 'nested', without: 'repeatGuard', starts: ['nmi-perf'], nmis: 2 });
  await timed('nmi.explore-without-rearmInRepeat-2nmis', { entry: 'nested', without: 'rearmInRepeat', starts: ['nmi-kprobe'], nmis: 2, maxStates: 400_000 });
  // The 2010 designs over every start state (the default search), one NMI beyond the start's own.
  await timed('nmi.explore-ret-from-fault-all-starts-1nmi', { entry: 'nested', variant: 'ret-from-fault', nmis: 1 });
  await timed('nmi.explore-faulting-iret-all-starts-1nmi', { entry: 'nested', variant: 'faulting-iret', nmis: 1 });
  await timed('nmi.explore-faulting-iret-window-2nmis', { entry: 'nested', variant: 'faulting-iret', starts: ['nmi-perf'], nmis: 2 });
}
if (which === undefined || which === 'starts') {
  await timed('nmi.explore-3.3-all-starts-1nmi', { entry: 'nested', nmis: 1, maxStates: 1_000_000 });
  // The issue's goal: the default search (2 NMIs, every start) to the end, no state budget cut. One pool runs every start's jobs.
  await pair('nmi.explore-3.3-all-starts-2nmis', { entry: 'nested', nmis: 2, maxStates: 50_000_000 });
  // The largest start alone (most of the states above): long, thin, independent subtrees.
  await pair('nmi.explore-3.3-breakpoint-2nmis', { entry: 'nested', starts: ['breakpoint'], nmis: 2, maxStates: 50_000_000 });
}
if (which === 'three') {
  // 3 NMIs: bounded by time and memory, not by the window (each NMI multiplies the placements by the window's length).
  await timed('nmi.explore-3.3-window-3nmis', { entry: 'nested', starts: ['nmi-perf'], nmis: 3, maxStates: 50_000_000, threads: 1 });
  console.log(`nmi.explore-3nmis-heap: ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB resident after the 3-NMI search`);
}
