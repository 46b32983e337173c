// Simulated allocations per second: kmem_cache_alloc + kmem_cache_free pairs of dentries,
// 32 at a time, on each design with the task in a child cgroup (accounting on), next to the
// same loop with no accounting (the baseline, measured in the same run).
import { performance } from 'node:perf_hooks';
import {
  type Accounting,
  createDesign,
  DESIGNS,
  GFP_KERNEL,
  Kernel,
  NoAccounting,
  ROOT_CGROUP,
} from '@kernsim/memcg-accounting';

const BATCH = 32;
const TARGET_MS = 600;

function measure(design: Accounting, inChild: boolean): number {
  const kernel = new Kernel(design);
  if (inChild) design.attach(1, design.createCgroup(ROOT_CGROUP, 'bench'));
  const handles = new Int32Array(BATCH);
  const round = (): void => {
    for (let i = 0; i < BATCH; i++) handles[i] = design.alloc(kernel.dentry, 1, 0, GFP_KERNEL);
    for (let i = BATCH - 1; i >= 0; i--) design.free(handles[i] ?? -1, 0);
  };
  for (let i = 0; i < 20000; i++) round();
  let rounds = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < TARGET_MS) {
    for (let i = 0; i < 1000; i++) round();
    rounds += 1000;
    elapsed = performance.now() - start;
  }
  return Math.round((rounds * BATCH) / (elapsed / 1000));
}

const config = { pages: 1 << 16, cpus: 1 };
const off = measure(new NoAccounting(config), false);
console.log(`memcg.allocs.off: ${String(off)} allocs/s`);
let best = 0;
for (const id of DESIGNS) {
  const unused = measure(createDesign(id, config), false);
  const on = measure(createDesign(id, config), true);
  best = Math.max(best, on);
  console.log(`memcg.allocs.${id}.unused: ${String(unused)} allocs/s`);
  console.log(`memcg.allocs.${id}: ${String(on)} allocs/s`);
}
console.log(`memcg.allocs: ${String(best)} allocs/s`);
