import { Accounting, GFP_ATOMIC, IN_INTERRUPT, type DesignId, type MachineConfig, type ShrinkFn } from './accounting.js';
import { type Cgroup, type CounterName, type KmemRoute, ROOT_CGROUP } from './cgroup-tree.js';
import { MemcgError } from './errors.js';
import type { KmemCache } from './kmem-cache.js';
import { checkBoolean, checkFunction, checkInt, checkLimitBytes } from './validate.js';

/** Slots of register_memcg_cache: patch 3/7 has `enum memcg_cache_indexes { CACHE_DENTRY, NR_CACHES }`. */
export const MEMCG_CACHE_SLOTS = 64;

/** The argument of register_memcg_cache in Glauber Costa's patches (struct memcg_cache_struct). */
export interface MemcgCacheRegistration {
  readonly index: number;
  /** The original cache (an index returned by createCache). */
  readonly cache: number;
  readonly shrink: ShrinkFn;
}

/**
 * Glauber Costa, February 2012: opt-in. Only caches passed to register_memcg_cache are
 * tracked; each cgroup gets its own copy of each of them when it is created; slab pages
 * of a copy are charged to its cgroup; the root cgroup is not tracked, and while no other
 * cgroup exists a static branch keeps the allocation path free of accounting work. Over
 * the limit the cache's shrink function runs and the allocation is retried once.
 */
export class CostaAccounting extends Accounting {
  readonly id: DesignId = 'costa';
  /** Registration slot of each original cache, or -1. */
  private readonly slotOf: number[] = [];
  private readonly registered: MemcgCacheRegistration[] = [];
  /** Per cgroup, the copy of each registered cache (by slot). */
  private readonly copies: (Int32Array | undefined)[] = [];
  /** The static branch: on once a non-root cgroup exists. */
  private active = false;

  constructor(config: MachineConfig) {
    super(config, 'slub');
  }

  registerMemcgCache(registration: MemcgCacheRegistration): void {
    this.rootCache(registration.cache);
    checkInt(registration.index, 'a memcg cache index', 0, MEMCG_CACHE_SLOTS - 1);
    checkFunction(registration.shrink, 'a shrink function');
    if ((this.slotOf[registration.cache] ?? -1) >= 0) {
      throw new MemcgError('KERNSIM_MEMCG_BAD_ARGUMENT', `expected an unregistered cache; cache ${String(registration.cache)} is registered`);
    }
    if (this.registered.some((r) => r.index === registration.index)) {
      // register_memcg_cache: BUG_ON(kmem_avail_caches[cache->index]).
      throw new MemcgError('KERNSIM_MEMCG_BAD_ARGUMENT', `expected a free memcg cache index; index ${String(registration.index)} is taken`);
    }
    if (this.tree.liveCount() > 1) {
      // Copies are made at cgroup creation, so registration belongs to boot time.
      throw new MemcgError('KERNSIM_MEMCG_BAD_ARGUMENT', 'expected registration before any cgroup exists');
    }
    this.slotOf[registration.cache] = this.registered.length;
    this.registered.push(registration);
    this.shrinkers.set(registration.cache, registration.shrink);
  }

  /**
   * mem_cgroup_resize_kmem_limit: unlike a plain res_counter_set_limit, a kmem limit below
   * the usage runs the cgroup's shrinkers and retries while the usage keeps falling; only
   * then is the limit refused (the typed error) — after the shrinking, which the kernel does
   * not undo either. Returns the number of shrinker calls.
   */
  resizeKmemLimit(cgroup: number, bytes: number): number {
    const node = this.tree.get(cgroup);
    checkLimitBytes(bytes, 'a kmem limit');
    this.checkKmemWritable(node);
    let calls = 0;
    let retries = 5;
    let old = node.kmem.usage;
    while (node.kmem.usage > bytes && retries > 0) {
      let freed = false;
      for (const index of this.shrinkers.keys()) {
        calls++;
        if (this.runShrinker(index, cgroup)) freed = true;
      }
      if (!freed || node.kmem.usage >= old) retries--;
      old = node.kmem.usage;
    }
    this.setLimit(cgroup, 'kmem', bytes);
    return calls;
  }

  /**
   * Patch 2/7: `memcg_kmem()` charges `memcg->kmem` with an independent kmem limit and
   * `memcg->res` (the memory counter) without one — never both.
   */
  protected override kmemRoute(cgroup: number): KmemRoute {
    return this.tree.node(cgroup).kmemIndependent ? 'kmem' : 'memory';
  }

  /** Patch 2/7: writing memory.kmem.limit_in_bytes without an independent kmem limit is -EINVAL. */
  private checkKmemWritable(node: Cgroup): void {
    if (!node.kmemIndependent) {
      throw new MemcgError(
        'KERNSIM_MEMCG_KMEM_NOT_INDEPENDENT',
        `expected memory.independent_kmem_limit = 1 before a kmem limit; ${node.name} charges kernel memory to its memory counter`,
      );
    }
  }

  override setLimit(cgroup: number, counter: CounterName, bytes: number): void {
    const node = this.tree.get(cgroup);
    if (counter === 'kmem') this.checkKmemWritable(node);
    super.setLimit(cgroup, counter, bytes);
  }

  /**
   * kmem_limit_independent_write (patch 2/7): with hierarchy a child inherits its parent's
   * setting (-EINVAL below a non-root parent), and a cgroup with children cannot change (-EBUSY).
   */
  override setKmemIndependent(cgroup: number, independent: boolean): void {
    const node = this.tree.get(cgroup);
    checkBoolean(independent, 'independent_kmem_limit');
    if (node.parent !== null && node.parent.id !== ROOT_CGROUP) {
      throw new MemcgError('KERNSIM_MEMCG_BAD_ARGUMENT', `expected a cgroup directly below the root; ${node.name} inherits independent_kmem_limit from its parent`);
    }
    if (node.children.some((c) => !c.removed)) {
      throw new MemcgError('KERNSIM_MEMCG_CGROUP_HAS_CHILDREN', `expected a cgroup without children to change independent_kmem_limit; ${node.name} has some`);
    }
    super.setKmemIndependent(cgroup, independent);
  }

  protected override onRootCacheCreated(index: number): void {
    this.slotOf[index] = -1;
  }

  protected override onCgroupCreated(cgroup: number): void {
    this.active = true;
    const node = this.tree.node(cgroup);
    // mem_cgroup_create: with hierarchy the child takes the parent's kmem_independent_accounting.
    if (node.parent !== null && node.parent.id !== ROOT_CGROUP) node.kmemIndependent = node.parent.kmemIndependent;
    const table = new Int32Array(this.registered.length);
    this.registered.forEach((reg, slot) => {
      const original = this.rootCache(reg.cache);
      const copy = this.slabs.createCache(original.spec, cgroup, original.id);
      this.stats.cachesCreated++;
      table[slot] = copy.id;
    });
    this.copies[cgroup] = table;
  }

  protected allocate(root: KmemCache, task: number, cpu: number, flags: number): number {
    // A disabled static branch is a NOP in the instruction stream: no operation counted.
    if (!this.active) return this.slabs.alloc(root, cpu, ROOT_CGROUP);
    this.ops++;
    const cg = this.tree.cgroupOf(task);
    this.ops++;
    // Interrupt context is served uncharged (an assumption, see README).
    if (cg === ROOT_CGROUP || (flags & IN_INTERRUPT) !== 0) return this.slabs.alloc(root, cpu, cg);
    const slot = this.slotOf[root.id] ?? -1;
    this.ops++;
    if (slot < 0) {
      const h = this.slabs.alloc(root, cpu, cg);
      if (h >= 0) this.stats.escapedBytes += root.objSize;
      return h;
    }
    const copy = this.slabs.caches[this.copies[cg]?.[slot] ?? root.id] ?? root;
    this.ops++;
    let h = this.slabs.alloc(copy, cpu, cg);
    if (h < 0 && this.slabs.lastFailure === 'charge' && (flags & GFP_ATOMIC) === 0) {
      if (this.runShrinker(root.id, cg)) {
        this.curFlags = flags;
        h = this.slabs.alloc(copy, cpu, cg);
      }
    }
    return h;
  }

  protected release(handle: number, cpu: number): void {
    if (this.active) this.ops++;
    this.slabs.free(handle, cpu);
  }

  /**
   * mem_cgroup_pre_destroy in patch 4/7: each copy's pages are uncharged from the cgroup only
   * up to its parent (which keeps the charge), partial slabs move to the parent's copy now,
   * full ones on their first free; the dead copy pins the cgroup until its last slab left.
   */
  protected removeCharges(node: Cgroup): Cgroup {
    const parent = node.parent ?? node;
    const table = this.copies[node.id];
    if (table !== undefined) {
      const parentTable = this.copies[parent.id];
      this.registered.forEach((reg, slot) => {
        const copy = this.slabs.caches[table[slot] ?? -1];
        if (copy === undefined) return;
        const target = parent.id === ROOT_CGROUP ? this.rootCache(reg.cache) : this.slabs.caches[parentTable?.[slot] ?? -1];
        if (target === undefined) return;
        // Pages still charged to this cgroup are held by the parent from now on (holderOf).
        this.slabs.shrink(copy);
        node.pins++;
        this.slabs.chain(copy, target);
      });
    }
    let others = false;
    for (const n of this.tree.nodes) if (!n.removed && n !== node && n.id !== ROOT_CGROUP) others = true;
    this.active = others || this.deadCaches() > 0;
    return parent;
  }
}
