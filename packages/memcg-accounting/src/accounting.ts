import { CgroupTree, checkTask, ROOT_CGROUP, type Cgroup, type CounterName, type KmemRoute } from './cgroup-tree.js';
import { MemcgError } from './errors.js';
import type { ResCounter } from './res-counter.js';
import type { AllocatorKind, CacheSpec, KmemCache } from './kmem-cache.js';
import { PAGE_SIZE, PageAllocator } from './page-allocator.js';
import { SlabAllocator } from './slab-allocator.js';
import type { SlabHooks } from './slab-store.js';
import { checkBoolean, checkFunction, checkInt, checkName } from './validate.js';

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
/** Every flag bit the model knows; any other bit in `flags` is refused. */
const KNOWN_FLAGS = GFP_ATOMIC | GFP_NOACCOUNT | GFP_NOFAIL | GFP_ACCOUNT | IN_INTERRUPT;
/** 2^26 pages of 4 KiB: 256 GiB, far beyond any workload here, small enough for typed arrays. */
export const MAX_PAGES = 1 << 26;
/** NR_CPUS of a large 2012 distribution kernel (CONFIG_NR_CPUS=4096 on x86_64 MAXSMP). */
export const MAX_CPUS = 4096;
/** Kernel stacks are 2^order pages; MAX_ORDER - 1 is the largest block the buddy allocator hands out. */
export const MAX_STACK_ORDER = 10;

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
  /** config.cpus, read on every allocation. */
  private readonly cpus: number;
  /** Flags of the allocation in progress, read by the slab hooks. */
  protected curFlags = 0;

  constructor(
    readonly config: MachineConfig,
    kind: AllocatorKind,
  ) {
    const raw: unknown = config;
    if (typeof raw !== 'object' || raw === null) {
      throw new MemcgError('KERNSIM_MEMCG_BAD_ARGUMENT', `expected a machine config { pages, cpus }; got ${raw === null ? 'null' : typeof raw}`);
    }
    checkInt(config.pages, 'a number of pages', 1, MAX_PAGES);
    checkInt(config.cpus, 'a number of CPUs', 1, MAX_CPUS);
    this.cpus = config.cpus;
    this.pages = new PageAllocator(config.pages);
    this.slabs = new SlabAllocator(this.pages, kind, config.cpus, this);
  }

  /** kmem_cache_create: a new original cache; returns its index. */
  createCache(spec: CacheSpec): number {
    const raw: unknown = spec;
    if (typeof raw !== 'object' || raw === null) {
      throw new MemcgError('KERNSIM_MEMCG_BAD_ARGUMENT', `expected a cache spec { name, objSize, account }; got ${raw === null ? "null" : typeof raw}`);
    }
    checkName(spec.name, 'a cache name');
    checkInt(spec.objSize, 'an object size in bytes', 8, 8 * PAGE_SIZE);
    checkBoolean(spec.account, 'account (SLAB_ACCOUNT)');
    const cache = this.slabs.createCache({ name: spec.name, objSize: spec.objSize, account: spec.account }, -1, -1);
    this.rootCaches.push(cache);
    this.stats.cachesCreated++;
    this.onRootCacheCreated?.(this.rootCaches.length - 1);
    return this.rootCaches.length - 1;
  }

  protected rootCache(index: number): KmemCache {
    const cache = Number.isInteger(index) ? this.rootCaches[index] : undefined;
    if (cache === undefined) {
      throw new MemcgError('KERNSIM_MEMCG_UNKNOWN_CACHE', `expected a cache index below ${String(this.rootCaches.length)}; got ${String(index)}`);
    }
    return cache;
  }

  /** A memcg-aware shrinker for the objects of one cache (today's list_lru shrinkers). */
  registerShrinker(cacheIndex: number, shrink: ShrinkFn): void {
    this.rootCache(cacheIndex);
    checkFunction(shrink, 'a shrink function');
    this.shrinkers.set(cacheIndex, shrink);
  }

  /** mkdir: a cgroup named `name` under `parent`. */
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

  /** A CPU of this machine: an integer from 0 to cpus - 1. */
  protected checkCpu(cpu: number): void {
    checkInt(cpu, 'a CPU number', 0, this.config.cpus - 1);
  }

  /** kmem_cache_alloc on behalf of `task`; returns an object handle or -1. */
  alloc(cacheIndex: number, task: number, cpu: number, flags: number): number {
    const root = this.rootCache(cacheIndex);
    // One branch on the fast path: `(x | 0) === x` holds exactly for integers in the int32 range.
    if ((task | 0) !== task || task < 0 || (cpu | 0) !== cpu || cpu < 0 || cpu >= this.cpus || (flags | 0) !== flags || flags < 0 || flags > KNOWN_FLAGS) {
      checkTask(task);
      this.checkCpu(cpu);
      // Every integer from 0 to KNOWN_FLAGS is made of known bits only.
      checkInt(flags, 'allocation flags made of GFP_* and IN_INTERRUPT bits', 0, KNOWN_FLAGS);
    }
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
    if ((cpu | 0) !== cpu || cpu < 0 || cpu >= this.cpus) this.checkCpu(cpu);
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
    checkTask(task);
    checkInt(order, 'a stack order', 0, MAX_STACK_ORDER);
    if (this.stacks.has(task)) {
      throw new MemcgError('KERNSIM_MEMCG_BAD_ARGUMENT', `expected a task without a kernel stack; task ${String(task)} has one`);
    }
    const pages = 1 << order;
    const cg = this.tree.cgroupOf(task);
    const charged = this.chargeStack?.(cg, pages) ?? -1;
    if (charged === -2) {
      this.stats.failedAllocs++;
      this.stats.chargeFailures++;
      return false;
    }
    if (!this.pages.alloc(pages)) {
      if (charged >= 0) this.tree.uncharge(this.tree.node(charged), pages * PAGE_SIZE, this.kmemRoute(charged));
      this.stats.failedAllocs++;
      return false;
    }
    this.stacks.set(task, { pages, charged, user: cg });
    return true;
  }

  freeStack(task: number): void {
    checkTask(task);
    const stack = this.stacks.get(task);
    if (stack === undefined) {
      throw new MemcgError('KERNSIM_MEMCG_DOUBLE_FREE', `expected task ${String(task)} to have a stack; it has none`);
    }
    this.stacks.delete(task);
    this.pages.free(stack.pages);
    if (stack.charged >= 0) {
      this.tree.uncharge(this.tree.node(this.holderOf(stack.charged)), stack.pages * PAGE_SIZE, this.kmemRoute(stack.charged));
    }
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
    const failed = this.tree.chargeKmem(node, pages * PAGE_SIZE, (this.curFlags & GFP_NOFAIL) !== 0, this.kmemRoute(owner));
    return failed >= 0 ? -2 : owner;
  }

  onFreeSlab(chargedTo: number, pages: number): void {
    if (chargedTo >= 0) this.tree.uncharge(this.tree.node(this.holderOf(chargedTo)), pages * PAGE_SIZE, this.kmemRoute(chargedTo));
  }

  /**
   * The counters a kernel-memory charge made by `cgroup` goes to. Both patch sets of 2012 let
   * a cgroup choose an independent kmem limit; without one, Souhlal's charges both counters
   * (the default here) and Costa's only the memory counter (his design overrides this).
   * A removed cgroup keeps its setting, so its charges are given back the way they came.
   */
  protected kmemRoute(cgroup: number): KmemRoute {
    return this.tree.node(cgroup).kmemIndependent ? 'kmem' : 'both';
  }

  /** The counter that limits the kernel memory of `cgroup`: kmem, or memory where kmem is not charged. */
  kernelCounter(cgroup: number): ResCounter {
    const node = this.tree.node(cgroup);
    return this.kmemRoute(cgroup) === 'memory' ? node.memory : node.kmem;
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
