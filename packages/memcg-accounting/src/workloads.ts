import { Prng } from '@kernsim/prng';
import { type Accounting, type DesignId, GFP_ACCOUNT, GFP_KERNEL } from './accounting.js';
import { ROOT_CGROUP } from './cgroup-tree.js';
import { NoAccounting } from './design-off.js';
import { createDesign, DESIGNS, type DesignOptions } from './designs.js';
import { Kernel } from './kernel-users.js';
import { PAGE_SIZE } from './page-allocator.js';
import { checkChoice, checkInt, checkPositive } from './validate.js';
import { collect, type WorkloadResult } from './workload-result.js';

export interface WorkloadOptions {
  readonly seed?: number;
  /** Multiplies the workload's size (1: the full run; tests use less). */
  readonly scale?: number;
  /** Options of the designs (Souhlal's root tracking and removal variant). */
  readonly design?: DesignOptions;
}

export const MIB = 1024 * 1024;

/** The largest `scale`: 100 times the full run is already minutes of simulation. */
export const MAX_SCALE = 100;

export function sized(options: WorkloadOptions): { prng: Prng; scale: number } {
  // The seed is checked here so a bad one is this package's typed error, like every other option.
  const seed = checkInt(options.seed ?? 2012, 'a seed', 0, 0xffffffff);
  return { prng: new Prng(seed), scale: checkPositive(options.scale ?? 1, 'a workload scale', MAX_SCALE) };
}

export function pagesFor(bytes: number): number {
  return Math.max(64, Math.round(bytes / PAGE_SIZE));
}

/**
 * A kmem limit of its own for `cg`: in 2012 that needs memory.independent_kmem_limit = 1 first;
 * since 3.8 there is no such switch (kmem is charged to memory too, and limited by both).
 */
function limitKmem(design: Accounting, cg: number, bytes: number): void {
  if (design.id !== 'objcg') design.setKmemIndependent(cg, true);
  design.setLimit(cg, 'kmem', bytes);
}

/**
 * Isolation: a `find` over a large tree in cgroup "noisy" next to a steady cgroup "quiet",
 * both with the same independent kmem limit, on a machine smaller than the flood.
 * extra: noisyLookups, quietCachedAtEnd.
 */
export function isolationWorkload(id: DesignId, options: WorkloadOptions = {}): WorkloadResult {
  const { prng, scale } = sized(options);
  const design = createDesign(id, { pages: pagesFor(32 * MIB * scale), cpus: 2 }, options.design);
  const kernel = new Kernel(design);
  const limit = pagesFor(8 * MIB * scale) * PAGE_SIZE;
  const noisy = design.createCgroup(ROOT_CGROUP, 'noisy');
  const quiet = design.createCgroup(ROOT_CGROUP, 'quiet');
  for (const cg of [noisy, quiet]) limitKmem(design, cg, limit);
  design.attach(1, noisy);
  design.attach(2, quiet);
  const fails = { noisy: 0, quiet: 0 };
  const working: number[] = [];
  for (let i = 0; i < 2000 * scale; i++) if (!kernel.lookup(2, 1, 8 + prng.int(40))) fails.quiet++;
  let lookups = 0;
  const steps = Math.round(200 * scale);
  for (let step = 0; step < steps; step++) {
    lookups += 300;
    fails.noisy += kernel.walk(1, 0, 300, prng);
    for (let i = 0; i < 10; i++) {
      if (!kernel.lookup(2, 1, 8 + prng.int(40))) fails.quiet++;
      const h = design.alloc(kernel.kmallocIndex(256), 2, 1, GFP_ACCOUNT);
      if (h < 0) fails.quiet++;
      else working.push(h);
    }
    while (working.length > 500) design.free(working.shift() ?? -1, 1);
    design.runWork();
  }
  return collect(
    design,
    'isolation',
    [
      { id: noisy, failedAllocs: fails.noisy, evicted: kernel.globalEvictions.get(noisy) ?? 0 },
      { id: quiet, failedAllocs: fails.quiet, evicted: kernel.globalEvictions.get(quiet) ?? 0 },
    ],
    { noisyLookups: lookups, quietCachedAtEnd: kernel.cachedDentries(quiet) },
  );
}

/**
 * Container churn: create a cgroup under "containers", fork a task, look up files, kmalloc,
 * exit, remove the cgroup — `scale` x 1000 times. A few objects outlive their container
 * (freed 200 containers later) and looked-up dentries stay cached until memory pressure.
 * extra: containers, orphanUsedBytes (live bytes whose cgroup is gone), containersCharged, rootCharged.
 */
export function churnWorkload(id: DesignId, options: WorkloadOptions = {}): WorkloadResult {
  const { prng, scale } = sized(options);
  const design = createDesign(id, { pages: pagesFor(64 * MIB * scale), cpus: 2 }, options.design);
  const kernel = new Kernel(design);
  const parent = design.createCgroup(ROOT_CGROUP, 'containers');
  const n = Math.round(1000 * scale);
  const longLived: { h: number; until: number }[] = [];
  const removed = new Set<number>();
  let failed = 0;
  for (let i = 0; i < n; i++) {
    const cg = design.createCgroup(parent, `c${String(i)}`);
    const task = 100 + i;
    const cpu = i & 1;
    design.attach(task, cg);
    if (!kernel.fork(task)) failed++;
    for (let j = 0; j < 40; j++) if (!kernel.lookup(task, cpu, 8 + prng.int(50))) failed++;
    const mine: number[] = [];
    for (let j = 0; j < 30; j++) {
      const h = design.alloc(kernel.kmallocIndex(8 + prng.int(1500)), task, cpu, GFP_ACCOUNT);
      if (h < 0) failed++;
      else mine.push(h);
    }
    for (let j = 0; j < mine.length; j++) {
      const h = mine[j] ?? -1;
      if (j < 2) longLived.push({ h, until: i + 200 });
      else design.free(h, cpu);
    }
    kernel.exit(task);
    design.exit(task);
    design.removeCgroup(cg);
    removed.add(cg);
    while (longLived.length > 0 && (longLived[0]?.until ?? n) <= i) design.free(longLived.shift()?.h ?? -1, cpu);
    if (i % 50 === 49) kernel.shrinkDcache(-1, 1500);
    design.runWork();
  }
  let orphanUsed = 0;
  for (const [cg, bytes] of design.usedBytes()) if (removed.has(cg)) orphanUsed += bytes;
  return collect(design, 'churn', [{ id: parent, failedAllocs: failed, evicted: 0, used: orphanUsed }], {
    containers: n,
    orphanUsedBytes: orphanUsed,
    containersCharged: design.tree.kernelCharged(design.tree.node(parent)),
    rootCharged: design.tree.node(ROOT_CGROUP).localKmem + design.tree.node(ROOT_CGROUP).localKmemMemoryOnly,
    clampedUncharges: design.tree.cost.clamps,
  });
}

/**
 * Many small cgroups, each touching many caches: `scale` x 200 cgroups, each allocating three
 * objects from every cache (dentry, inode, 13 kmalloc classes, 15 others) and keeping them.
 * extra: cgroups, cachesTouched, liveObjectBytes.
 */
export function manyCgroupsWorkload(id: DesignId, options: WorkloadOptions = {}): WorkloadResult {
  const { scale } = sized(options);
  const design = createDesign(id, { pages: pagesFor(512 * MIB), cpus: 2 }, options.design);
  const kernel = new Kernel(design, { miscCaches: 15 });
  const caches = [kernel.dentry, kernel.inode, ...kernel.kmalloc, ...kernel.misc];
  const n = Math.round(200 * scale);
  const watched: { id: number; failedAllocs: number; evicted: number }[] = [];
  for (let i = 0; i < n; i++) {
    const cg = design.createCgroup(ROOT_CGROUP, `small${String(i)}`);
    design.attach(1000 + i, cg);
    let failed = 0;
    for (const cache of caches) {
      for (let k = 0; k < 3; k++) if (design.alloc(cache, 1000 + i, i & 1, GFP_ACCOUNT) < 0) failed++;
    }
    if (i < 3) watched.push({ id: cg, failedAllocs: failed, evicted: 0 });
  }
  return collect(design, 'many-cgroups', watched, {
    cgroups: n,
    cachesTouched: caches.length,
    liveObjectBytes: design.slabs.liveBytes(),
  });
}

/**
 * Allocations in atomic context: four cgroups with a 1 MiB independent kmem limit receive
 * bursts of packets in softirq context faster than they consume them; the workqueue runs
 * every ten steps. A failed allocation is a dropped packet.
 * extra: packets, dropped, maxOverLimitBytes, splitsDone.
 */
export function atomicWorkload(id: DesignId, options: WorkloadOptions = {}): WorkloadResult {
  const { prng, scale } = sized(options);
  const design = createDesign(id, { pages: pagesFor(64 * MIB), cpus: 2 }, options.design);
  const kernel = new Kernel(design);
  const limit = MIB;
  const webs: number[] = [];
  for (let w = 0; w < 4; w++) {
    const cg = design.createCgroup(ROOT_CGROUP, `web${String(w)}`);
    limitKmem(design, cg, limit);
    design.attach(500 + w, cg);
    webs.push(cg);
  }
  const inflight: (readonly [number, number])[][] = webs.map(() => []);
  const dropped = webs.map(() => 0);
  let packets = 0;
  let splits = 0;
  const steps = Math.round(2000 * scale);
  for (let step = 0; step < steps; step++) {
    for (let w = 0; w < webs.length; w++) {
      const queue = inflight[w] ?? [];
      const burst = prng.int(8);
      for (let k = 0; k < burst; k++) {
        packets++;
        const skb = kernel.skbAlloc(500 + w, w & 1, 1500);
        if (skb === null) dropped[w] = (dropped[w] ?? 0) + 1;
        else queue.push(skb);
      }
      for (let k = 0; k < 3 && queue.length > 0; k++) {
        const skb = queue.shift();
        if (skb === undefined) break;
        design.free(skb[1], w & 1);
        design.free(skb[0], w & 1);
      }
    }
    if (step % 10 === 9) splits += design.runWork();
  }
  let over = 0;
  for (const cg of webs) over = Math.max(over, design.tree.node(cg).kmem.maxUsage - limit);
  return collect(
    design,
    'atomic',
    webs.map((cg, w) => ({ id: cg, failedAllocs: dropped[w] ?? 0, evicted: 0 })),
    { packets, dropped: dropped.reduce((a, b) => a + b, 0), maxOverLimitBytes: Math.max(0, over), splitsDone: splits },
  );
}

export interface PathCost {
  /** Abstract operations per allocation-and-free with no accounting in the kernel. */
  readonly off: number;
  /** With accounting built in and enabled, but only the root cgroup in use. */
  readonly onUnused: number;
  /** With the allocating task in a (limitless) child cgroup. */
  readonly on: number;
}

function opsPerAlloc(design: Accounting, inChild: boolean, rounds: number): number {
  const kernel = new Kernel(design);
  const task = 1;
  if (inChild) design.attach(task, design.createCgroup(ROOT_CGROUP, 'c'));
  const batch = new Int32Array(32);
  const run = (): void => {
    for (let i = 0; i < batch.length; i++) batch[i] = design.alloc(kernel.dentry, task, 0, GFP_KERNEL);
    for (let i = batch.length - 1; i >= 0; i--) design.free(batch[i] ?? -1, 0);
  };
  run();
  const before = design.pathOps();
  for (let r = 0; r < rounds; r++) run();
  return (design.pathOps() - before) / (rounds * batch.length);
}

/** The allocation path's cost, in abstract operations, with accounting off, on but unused, and on. */
export function pathCost(id: Exclude<DesignId, 'off'>, rounds = 200): PathCost {
  checkChoice(id, 'a design', DESIGNS);
  checkInt(rounds, 'a number of rounds', 1, 1_000_000);
  const config = { pages: 4096, cpus: 1 };
  const off = opsPerAlloc(new NoAccounting(config, id === 'souhlal' ? 'slab' : 'slub'), false, rounds);
  const onUnused = opsPerAlloc(createDesign(id, config), false, rounds);
  return { off, onUnused, on: opsPerAlloc(createDesign(id, config), true, rounds) };
}
