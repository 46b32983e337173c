import {
  Accounting,
  GFP_ATOMIC,
  GFP_NOACCOUNT,
  GFP_NOFAIL,
  IN_INTERRUPT,
  type DesignId,
  type MachineConfig,
} from './accounting.js';
import { type Cgroup, ROOT_CGROUP } from './cgroup-tree.js';
import type { KmemCache } from './kmem-cache.js';
import { checkBoolean, checkChoice } from './validate.js';

export interface SouhlalOptions {
  /** CONFIG_CGROUP_MEM_RES_CTLR_KMEM_ACCT_ROOT: charge the root cgroup too (default on). */
  readonly trackRoot?: boolean;
  /**
   * What removal does with the cgroup's charges. 'root-holds' (default): the root cgroup
   * takes them over until the dead caches' pages are freed — the cover letter's "the
   * accounting gets moved to the root cgroup". 'as-posted': what patches 2/10 and 5/10 do —
   * the charges are dropped at removal and the dead caches' pages, once freed, are
   * uncharged from the root (whose counter then clamps at zero; patch 7/10 stops the
   * underflow warnings).
   */
  readonly removal?: 'root-holds' | 'as-posted';
}

/** Abstract cost of creating a per-cgroup cache (locks, allocating the kmem_cache). */
const SPLIT_OPS = 20;

/**
 * Suleiman Souhlal, February 2012: opt-out. Every cache is tracked unless the allocation
 * says __GFP_NOACCOUNT; SLAB; a cache is split for a cgroup on that cgroup's first
 * allocation from it — in atomic context the split is queued to a workqueue and the
 * allocation is served, unaccounted, from the original cache meanwhile. No shrinker.
 */
export class SouhlalAccounting extends Accounting {
  readonly id: DesignId = 'souhlal';
  readonly trackRoot: boolean;
  readonly removal: 'root-holds' | 'as-posted';
  /** Per cgroup, the copy of each original cache (-1 until split). */
  private readonly copies: number[][] = [];
  private readonly queued = new Set<number>();
  private readonly workqueue: { cgroup: number; cache: number }[] = [];

  constructor(config: MachineConfig, options: SouhlalOptions = {}) {
    super(config, 'slab');
    this.trackRoot = checkBoolean(options.trackRoot ?? true, 'souhlal.trackRoot');
    this.removal = checkChoice(options.removal ?? 'root-holds', 'souhlal.removal', ['root-holds', 'as-posted']);
  }

  protected override slabOwner(cache: KmemCache): number {
    if (cache.owner >= 0) return cache.owner;
    return this.trackRoot ? ROOT_CGROUP : -1;
  }

  protected override onCgroupCreated(cgroup: number): void {
    this.copies[cgroup] = [];
  }

  private split(cgroup: number, root: KmemCache): KmemCache {
    const copy = this.slabs.createCache(root.spec, cgroup, root.id);
    this.stats.cachesCreated++;
    this.ops += SPLIT_OPS;
    const table = this.copies[cgroup] ?? [];
    table[root.id] = copy.id;
    this.copies[cgroup] = table;
    return copy;
  }

  protected allocate(root: KmemCache, task: number, cpu: number, flags: number): number {
    this.ops++;
    const cg = this.tree.cgroupOf(task);
    // mem_cgroup_get_kmem_cache (patch 5/10): interrupt context, __GFP_NOACCOUNT and __GFP_NOFAIL
    // allocations use the original cache.
    if ((flags & (GFP_NOACCOUNT | GFP_NOFAIL | IN_INTERRUPT)) !== 0 || cg === ROOT_CGROUP) {
      this.ops++;
      return this.slabs.alloc(root, cpu, cg);
    }
    this.ops += 2;
    const id = this.copies[cg]?.[root.id] ?? -1;
    let cache = this.slabs.caches[id];
    if (cache === undefined) {
      if ((flags & GFP_ATOMIC) !== 0) {
        const key = cg * 65536 + root.id;
        if (!this.queued.has(key)) {
          this.queued.add(key);
          this.workqueue.push({ cgroup: cg, cache: root.id });
        }
        this.stats.deferredSplits++;
        const h = this.slabs.alloc(root, cpu, cg);
        if (h >= 0) this.stats.escapedBytes += root.objSize;
        return h;
      }
      cache = this.split(cg, root);
    }
    return this.slabs.alloc(cache, cpu, cg);
  }

  override runWork(): number {
    let done = 0;
    for (const item of this.workqueue) {
      this.queued.delete(item.cgroup * 65536 + item.cache);
      const node = this.tree.node(item.cgroup);
      const root = this.slabs.caches[item.cache];
      if (node.removed || root === undefined || (this.copies[item.cgroup]?.[item.cache] ?? -1) >= 0) continue;
      this.split(item.cgroup, root);
      done++;
    }
    this.workqueue.length = 0;
    return done;
  }

  protected release(handle: number, cpu: number): void {
    const cache = this.slabs.cacheOf(handle);
    // The patch takes and drops a reference on the cache at every accounted free.
    this.ops += cache.owner >= 0 ? 3 : 1;
    this.slabs.free(handle, cpu);
    if (cache.dead && cache.liveObjects === 0 && !cache.destroyed) this.retire(cache);
  }

  private retire(cache: KmemCache): void {
    this.slabs.destroy(cache);
    if (cache.owner >= 0) this.tree.node(cache.owner).pins--;
  }

  /**
   * Patch 2/10 ("Uncharge all kmem when deleting a cgroup") and the cover letter: on
   * deletion the accounting moves to the root cgroup and the cgroup's caches are marked dead;
   * a dead cache goes away once it has no active objects.
   */
  protected removeCharges(node: Cgroup): Cgroup {
    const root = this.tree.node(ROOT_CGROUP);
    const asPosted = this.removal === 'as-posted';
    // memcg_kmem_move: the cgroup's kmem charge is dropped before its caches die.
    if (asPosted) this.tree.uncharge(node, node.localKmem, this.kmemRoute(node.id));
    const heir = this.trackRoot ? ROOT_CGROUP : -1;
    for (const id of this.copies[node.id] ?? []) {
      const cache = this.slabs.caches[id];
      if (cache === undefined) continue;
      cache.dead = true;
      // As posted, a dead cache's pages are uncharged from the root (cache->memcg is NULL). Otherwise
      // they keep their charger, which the root now holds for (holderOf), so the uncharge takes the
      // route the charge took.
      if (asPosted) for (const s of this.slabs.slabsOf(cache)) this.slabs.slabCharge[s] = heir;
      node.pins++;
    }
    return root;
  }

  protected override afterRemoval(node: Cgroup): void {
    for (const id of this.copies[node.id] ?? []) {
      const cache = this.slabs.caches[id];
      if (cache?.liveObjects === 0 && !cache.destroyed) this.retire(cache);
    }
  }
}
