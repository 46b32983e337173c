import type { Accounting, DesignId } from './accounting.js';
import { ObjcgAccounting } from './design-objcg.js';
import { PAGE_SIZE } from './page-allocator.js';

export type WorkloadId = 'isolation' | 'churn' | 'many-cgroups' | 'atomic' | 'host';

export interface CgroupFigures {
  readonly name: string;
  /** The counter that limits this cgroup's kernel memory: 'kmem', or 'memory' where kernel memory is charged there only (Costa without an independent limit). */
  readonly counter: 'kmem' | 'memory';
  readonly limit: number | null;
  readonly maxUsage: number;
  /** Kernel memory charged to this cgroup and its live descendants, whichever counter holds it. */
  readonly charged: number;
  /** Bytes its tasks really use (live objects and stacks). */
  readonly used: number;
  readonly failcnt: number;
  readonly failedAllocs: number;
  /** Its cached dentries evicted by global reclaim (someone else's pressure). */
  readonly evicted: number;
}

export interface WorkloadResult {
  readonly design: DesignId;
  readonly workload: WorkloadId;
  readonly slabPages: number;
  /** Live object bytes / slab page bytes. */
  readonly utilisation: number;
  readonly caches: number;
  readonly allocs: number;
  readonly failedAllocs: number;
  readonly chargeFailures: number;
  readonly shrinkerCalls: number;
  /** Bytes allocated from non-root cgroups that no cgroup was charged for. */
  readonly escapedBytes: number;
  readonly deferredSplits: number;
  readonly deadCaches: number;
  readonly deadCgroupsAlive: number;
  readonly deadObjcgsAlive: number;
  /** Every limited cgroup stayed at or under its limit (forced charges aside). */
  readonly limitsHeld: boolean;
  readonly forcedCharges: number;
  readonly metadataBytes: number;
  readonly cgroups: readonly CgroupFigures[];
  /** Workload-specific figures (named in the workload's documentation). */
  readonly extra: Readonly<Record<string, number>>;
}

export function collect(
  design: Accounting,
  workload: WorkloadId,
  watched: readonly { readonly id: number; readonly failedAllocs: number; readonly evicted: number; readonly used?: number }[],
  extra: Record<string, number>,
): WorkloadResult {
  const used = design.usedBytes();
  let limitsHeld = true;
  let forced = 0;
  for (const node of design.tree.nodes) {
    // Forced charges are counted once, on the counter that holds the cgroup's kernel memory.
    forced += design.kernelCounter(node.id).forcedCharges;
    for (const c of [node.kmem, node.memory]) if (c.maxUsage > c.limit && c.forcedCharges === 0) limitsHeld = false;
  }
  const cgroups = watched.map((w) => {
    const node = design.tree.node(w.id);
    const counter = design.kernelCounter(w.id);
    return {
      name: node.name,
      counter: counter === node.kmem ? ('kmem' as const) : ('memory' as const),
      limit: Number.isFinite(counter.limit) ? counter.limit : null,
      maxUsage: counter.maxUsage,
      charged: design.tree.kernelCharged(node),
      used: w.used ?? used.get(w.id) ?? 0,
      failcnt: counter.failcnt,
      failedAllocs: w.failedAllocs,
      evicted: w.evicted,
    };
  });
  const s = design.stats;
  const objcg = design instanceof ObjcgAccounting ? design : null;
  return {
    design: design.id,
    workload,
    slabPages: design.slabs.slabPages,
    utilisation: design.slabs.utilisation(),
    caches: design.slabs.activeCaches(),
    allocs: s.allocs,
    failedAllocs: s.failedAllocs,
    chargeFailures: s.chargeFailures,
    shrinkerCalls: s.shrinkerCalls,
    escapedBytes: s.escapedBytes,
    deferredSplits: s.deferredSplits,
    deadCaches: design.deadCaches(),
    deadCgroupsAlive: design.deadCgroupsAlive(),
    deadObjcgsAlive: objcg === null ? 0 : objcg.deadObjcgsAlive(),
    limitsHeld,
    forcedCharges: forced,
    metadataBytes: objcg === null ? 0 : objcg.metadataBytes(),
    cgroups,
    extra: { ...extra, slabBytes: design.slabs.slabPages * PAGE_SIZE },
  };
}
