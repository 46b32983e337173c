// Wall time to simulate one patch of 100 ftrace sites on 4096 CPUs that all run traced
// code, by the breakpoint method and by stop_machine (the same work), every CPU stepping in
// lockstep (quantum 1, the figures' setting) and in turns of 16 instructions.
import { runPatch } from '../src/index.js';
import type { PatchMethod } from '../src/index.js';

const CPUS = 4096;
const SITES = 100;

function measure(method: PatchMethod, quantum: number): void {
  const t0 = performance.now();
  const r = runPatch({ method, cpus: CPUS, sites: SITES, settle: 1, quantum });
  const seconds = (performance.now() - t0) / 1000;
  if (!r.completed || r.gpFaults > 0) throw new Error(`${method}: the patch did not complete cleanly (completed ${String(r.completed)}, #GP ${String(r.gpFaults)})`);
  const suffix = quantum === 1 ? '' : `-quantum${String(quantum)}`;
  const name = `text-patching.${method}-${String(CPUS)}${suffix}`;
  console.log(`${name}: ${seconds.toFixed(2)} s`);
  console.log(`${name}.steps-per-second: ${(r.steps / seconds / 1e6).toFixed(2)} Msteps/s`);
  console.log(`${name}.patch-time: ${String(r.patchCycles)} cycles`);
  console.log(`${name}.int3-hits: ${String(r.int3OtherCpus)} traps`);
}

// Warm the JIT and the image cache on a small machine first.
for (const method of ['breakpoint', 'stop-machine'] as const) runPatch({ method, cpus: 64, sites: SITES, settle: 1 });

measure('breakpoint', 1);
measure('stop-machine', 1);
measure('breakpoint', 16);
