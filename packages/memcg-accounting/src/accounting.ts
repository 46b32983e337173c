import { CgroupTree, ROOT_CGROUP, type Cgroup, type CounterName } from './cgroup-tree.js';
import { MemcgError } from './errors.js';
import type { AllocatorKind, CacheSpec, KmemCache } from './kmem-cache.js';
import { PAGE_SIZE, PageAllocator } from './page-allocator.js';
import { SlabAllocator, type SlabHooks } from './slab-allocator.js';

/** Allocation flags (a small subset of gfp_t). */
export const GFP_KERNEL = 0;
/** Atomic context: may not sleep, so no cache creation, no shrinking. Includes __GFP_HIGH. */
export const GFP_ATOMIC = 1;
/** Souhlal's opt-out flag. */
export const GFP_NOACCOUNT = 2;
export const GFP_NOFAIL = 4;
/** Today's per-allocation opt-in (caches may opt in with SLAB_ACCOUNT instead). */
export const GFP_ACCOUNT = 8;
/**
 * Not a gfp flag but the context: the allocation runs in (soft or hard) interrupt context,
 * where `current` is whatever task was interrupted, so no design charges it.
 */
export const IN_INTERRUPT = 16;

export type DesignId = 'off' | 'costa' | 'souhlal' | 'objcg';

export interface MachineConfig {
  /** Pages of memory the page allocator may hand out. */
  readonly pages: number;
  readonly cpus: number;
}

/** Frees up to `nrToScan` objects charged to `cgroup` (-1: any cgroup); returns how many went. */
export type ShrinkFn = (cgroup: number, nrToScan: number) => number;

export interface AccountingStats {
  allocs: number;
  failedAllocs: number;
  /** Allocations that failed because a charge was refused (limit), not for lack of pages. */
  chargeFailures: number;
  shrinkerCalls: number;
  shrunkObjects: number;
  /** Bytes allocated by tasks of a non-root cgroup that nobody was charged for. */
  escapedBytes: number;
  /** Allocations that had to be served while a per-cgroup cache was being created. */
  deferredSplits: number;
  cachesCreated: number;
}

/**
 * What the three designs share: the machine (pages, slabs, cgroups), validation of the
 * operations, and the statistics. A design decides which cache serves an allocation, who is
 * charged and when, and what happens to charges when a cgroup goes away.
 */
export abstract class Accounting implements SlabHooks {
  abstract readonly id: DesignId;
  readonly tree = new CgroupTree();
  readonly pages: PageAllocator;
  readonly slabs: SlabAllocator;
  readonly rootCaches: KmemCache[] = [];
  readonly stats: AccountingStats = {
    allocs: 0,
    failedAllocs: 0,
    chargeFailures: 0,
    shrinkerCalls: 0,
    shrunkObjects: 0,
    escapedBytes: 0,
    deferredSplits: 0,
    cachesCreated: 0,
  };
  /** Abstract operations spent by the accounting itself (lookups, checks). */
  ops = 0;
  /** Set by the kernel layer: frees memory from every LRU when the page allocator runs dry. */
  globalReclaim: ShrinkFn | null = null;
  /** Called when a cgroup's charges (and LRU) pass to another cgroup on removal. */
  onReparent: ((from: number, to: number) => void) | null = null;
  protected readonly shrinkers = new Map<number, ShrinkFn>();
  private readonly stacks = new Map<number, { pages: number; charged: number; user: number }>();
  /** Who inherited each removed cgroup's charges (followed until a live cgroup). */
  private readonly heirs: number[] = [];
  /** Flags of the allocation in progress, read by the slab hooks. */
  protected curFlags = 0;

  constructor(
    readonly config: MachineConfig,
    kind: AllocatorKind,
  ) {
    this.pages = new PageAllocator(config.pages);
    this.slabs = new SlabAllocator(this.pages, kind, config.cpus, this);
  }

  /** kmem_cache_create: a new original cache; returns its index. */
  createCache(spec: CacheSpec): number {
    if (!(spec.objSize >= 8 && spec.objSize <= 8 * PAGE_SIZE)) {
      throw new MemcgError('KERNSIM_MEMCG_BAD_ARGUMENT', `expected an object size from 8 to 32768 bytes; got ${String(spec.objSize)}`);
    }
    const cache = this.slabs.createCache(spec, -1, -1);
    this.rootCaches.push(cache);
    this.stats.cachesCreated++;
    this.onRootCacheCreated?.(this.rootCaches.length - 1);
    return this.rootCaches.length - 1;
  }

  protected rootCache(index: number): KmemCache {
    const cache = this.rootCaches[index];
    if (cache === undefined) {
      throw new MemcgError('KERNSIM_MEMCG_UNKNOWN_CACHE', `expected a cache index below ${String(this.rootCaches.length)}; got ${String(index)}`);
    }
    return cache;
  }

  /** A memcg-aware shrinker for the objects of one cache (today's list_lru shrinkers). */
  registerShrinker(cacheIndex: number, shrink: ShrinkFn): void {
    this.rootCache(cacheIndex);
    this.shrinkers.set(cacheIndex, shrink);
  }

  createCgroup(parent: number, name: string): number {
    const id = this.tree.apply({ type: 'create', parent, name });
    this.onCgroupCreated?.(id);
    return id;
  }

  attach(task: number, cgroup: number): void {
    this.tree.apply({ type: 'attach', task, cgroup });
  }

  exit(task: number): void {
    this.tree.apply({ type: 'exit', task });
  }

  setLimit(cgroup: number, counter: CounterName, bytes: number): void {
    this.tree.apply({ type: 'setLimit', cgroup, counter, bytes });
  }

  setKmemIndependent(cgroup: number, independent: boolean): void {
    this.tree.apply({ type: 'setKmemIndependent', cgroup, independent });
  }

  /** rmdir: refused (typed error, nothing changed) while the cgroup has tasks or children. */
  removeCgroup(cgroup: number): void {
    const node = this.tree.checkRemovable(cgroup);
    const heir = this.removeCharges(node);
    this.heirs[node.id] = heir.id;
    this.tree.reparent(node, heir);
    this.tree.markRemoved(node);
    this.onReparent?.(node.id, heir.id);
    this.afterRemoval?.(node);
  }

  /** kmem_cache_alloc on behalf of `task`; returns an object handle or -1. */
  alloc(cacheIndex: number, task: number, cpu: number, flags: number): number {
    const root = this.rootCache(cacheIndex);
    this.stats.allocs++;
    this.curFlags = flags;
    let h = this.allocate(root, task, cpu, flags);
    if (h < 0 && this.slabs.lastFailure === 'pages' && (flags & GFP_ATOMIC) === 0 && this.globalReclaim !== null) {
      this.stats.shrinkerCalls++;
      this.stats.shrunkObjects += this.globalReclaim(-1, 256);
      this.curFlags = flags;
      h = this.allocate(root, task, cpu, flags);
    }
    if (h < 0) {
      this.stats.failedAllocs++;
      if (this.slabs.lastFailure === 'charge') this.stats.chargeFailures++;
    }
    this.slabs.lastFailure = 'none';
    return h;
  }

  /** kmem_cache_free; freeing an object that is not live is a typed error and changes nothing. */
  free(handle: number, cpu: number): void {
    if (!this.slabs.isLive(handle)) {
      throw new MemcgError('KERNSIM_MEMCG_DOUBLE_FREE', `expected a live object; object ${String(handle)} is free`);
    }
    this.release(handle, cpu);
  }

  /** Runs deferred work (Souhlal's cache creation workqueue); nothing by default. */
  runWork(): number {
    return 0;
  }

  /** A task's kernel stack: 2^order pages straight from the page allocator. */
  allocStack(task: number, order: number): boolean {
    const pages = 1 << order;
    const cg = this.tree.cgroupOf(task);
    const charged = this.chargeStack?.(cg, pages) ?? -1;
    if (charged === -2) {
      this.stats.failedAllocs++;
      this.stats.chargeFailures++;
      return false;
    }
    if (!this.pages.alloc(pages)) {
      if (charged >= 0) this.tree.uncharge(this.tree.node(charged), pages * PAGE_SIZE);
      this.stats.failedAllocs++;
      return false;
    }
    this.stacks.set(task, { pages, charged, user: cg });
    return true;
  }

  freeStack(task: number): void {
    const stack = this.stacks.get(task);
    if (stack === undefined) {
      throw new MemcgError('KERNSIM_MEMCG_DOUBLE_FREE', `expected task ${String(task)} to have a stack; it has none`);
    }
    this.stacks.delete(task);
    this.pages.free(stack.pages);
    if (stack.charged >= 0) this.tree.uncharge(this.tree.node(this.holderOf(stack.charged)), stack.pages * PAGE_SIZE);
  }

  /** Bytes each live cgroup really uses: live objects its tasks allocated, plus their stacks. */
  usedBytes(): Map<number, number> {
    const used = new Map<number, number>();
    const s = this.slabs;
    for (let h = 0; h < s.objLive.length; h++) {
      if (s.objLive[h] !== 1) continue;
      const user = s.objUser[h] ?? 0;
      used.set(user, (used.get(user) ?? 0) + s.cacheOf(h).objSize);
    }
    for (const stack of this.stacks.values()) used.set(stack.user, (used.get(stack.user) ?? 0) + stack.pages * PAGE_SIZE);
    return used;
  }

  deadCaches(): number {
    let n = 0;
    for (const c of this.slabs.caches) if (c.dead && !c.destroyed) n++;
    return n;
  }

  /** Removed cgroups whose structure is still pinned by something (a dead cache, charged pages). */
  deadCgroupsAlive(): number {
    let n = 0;
    for (const node of this.tree.nodes) if (node.removed && node.pins > 0) n++;
    return n;
  }

  /** A comparable picture of the whole state, for checking that a refused operation changed nothing. */
  snapshot(): unknown {
    return {
      cgroups: this.tree.snapshot(),
      usedPages: this.pages.usedPages,
      slabPages: this.slabs.slabPages,
      liveBytes: this.slabs.liveBytes(),
      caches: this.slabs.caches.map((c) => [c.nrSlabs, c.liveObjects, c.dead, c.destroyed]),
      stats: { ...this.stats },
      stacks: [...this.stacks.entries()],
    };
  }

  /** Everything the allocation path did, in abstract operations. */
  pathOps(): number {
    return this.ops + this.slabs.ops + this.tree.cost.ops;
  }

  // ---- slab hooks (charging per slab page by default) ----

  onNewSlab(cache: KmemCache, pages: number): number {
    const owner = this.slabOwner(cache);
    if (owner < 0) return -1;
    const node = this.tree.node(owner);
    const failed = this.tree.chargeKmem(node, pages * PAGE_SIZE, (this.curFlags & GFP_NOFAIL) !== 0);
    return failed >= 0 ? -2 : owner;
  }

  onFreeSlab(chargedTo: number, pages: number): void {
    if (chargedTo >= 0) this.tree.uncharge(this.tree.node(this.holderOf(chargedTo)), pages * PAGE_SIZE);
  }

  /** The live cgroup that now holds what was charged to `cgroup` (itself unless removed). */
  protected holderOf(cgroup: number): number {
    let cg = cgroup;
    while (this.tree.node(cg).removed) cg = this.heirs[cg] ?? 0;
    return cg;
  }

  onChainedEmpty(cache: KmemCache): void {
    cache.destroyed = true;
    if (cache.owner >= 0) this.tree.node(cache.owner).pins--;
  }

  /** The cgroup a slab of this cache is charged to, or -1. */
  protected slabOwner(cache: KmemCache): number {
    return cache.owner;
  }

  /** Charges a task stack; returns the cgroup charged, -1 for nobody, -2 when refused. Unset: stacks are not charged. */
  protected chargeStack?(cgroup: number, pages: number): number;

  protected runShrinker(cacheIndex: number, cgroup: number): boolean {
    const shrink = this.shrinkers.get(cacheIndex);
    if (shrink === undefined) return false;
    this.stats.shrinkerCalls++;
    const freed = shrink(cgroup, 128);
    this.stats.shrunkObjects += freed;
    return freed > 0;
  }

  protected onRootCacheCreated?(index: number): void;

  protected onCgroupCreated?(cgroup: number): void;

  protected isRoot(cgroup: number): boolean {
    return cgroup === ROOT_CGROUP;
  }

  /** Work that gives charges back, done once the heir holds them (retiring empty dead caches). */
  protected afterRemoval?(node: Cgroup): void;

  /** Moves the design's own state off a cgroup being removed; returns who inherits its charges. */
  protected abstract removeCharges(node: Cgroup): Cgroup;
  protected abstract allocate(root: KmemCache, task: number, cpu: number, flags: number): number;
  protected abstract release(handle: number, cpu: number): void;
}
