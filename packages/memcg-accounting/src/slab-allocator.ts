import { MemcgError } from './errors.js';
import { type CacheSpec, KmemCache, ON_CPU, ON_FREE, ON_FULL, ON_NONE, ON_PARTIAL } from './kmem-cache.js';
import { PAGE_SIZE } from './page-allocator.js';
import { SlabStore } from './slab-store.js';

/** SLUB keeps this many empty slabs on a node's partial list before giving pages back (MIN_PARTIAL). */
const MIN_PARTIAL = 5;

/**
 * Object allocation for SLUB- and SLAB-like caches on the slabs of a `SlabStore`: SLUB's
 * per-CPU slab and partial list, SLAB's per-CPU array caches refilled in batches, and what
 * happens to a cache's slabs when it is shrunk, chained to another (Costa) or destroyed.
 */
export class SlabAllocator extends SlabStore {
  readonly caches: KmemCache[] = [];

  createCache(spec: CacheSpec, owner: number, root: number): KmemCache {
    const id = this.caches.length;
    const cache = new KmemCache(id, spec, this.kind, owner, root < 0 ? id : root, this.cpus);
    this.caches.push(cache);
    if (root < 0) this.recycle[id] = [];
    return cache;
  }

  cacheOf(handle: number): KmemCache {
    const cache = this.caches[this.slabCache[this.objSlab[handle] ?? 0] ?? 0];
    if (cache === undefined) throw new MemcgError('KERNSIM_MEMCG_UNKNOWN_CACHE', `no cache for object ${String(handle)}`);
    return cache;
  }

  /** Allocates one object; -1 when no slab could be had (see lastFailure). */
  alloc(cache: KmemCache, cpu: number, user: number): number {
    const h = cache.kind === 'slub' ? this.slubAlloc(cache, cpu) : this.slabAlloc(cache, cpu);
    if (h >= 0) {
      this.objLive[h] = 1;
      this.objUser[h] = user;
      cache.liveObjects++;
    }
    return h;
  }

  /** Frees a live object (the caller has checked it is live). */
  free(handle: number, cpu: number): void {
    const cache = this.cacheOf(handle);
    this.objLive[handle] = 0;
    cache.liveObjects--;
    if (cache.kind === 'slub') this.slubFree(cache, handle);
    else this.slabFree(cache, handle, cpu);
  }

  // ---- SLUB ----

  private slubAlloc(cache: KmemCache, cpu: number): number {
    let s = cache.cpuSlab[cpu] ?? -1;
    if (s >= 0) {
      if ((this.slabFreeHead[s] ?? -1) >= 0) {
        this.ops++;
        return this.popObject(s);
      }
      this.listAdd(cache, s, ON_FULL);
      cache.cpuSlab[cpu] = -1;
    }
    this.ops += 2;
    s = cache.partialHead;
    if (s >= 0) this.listRemove(cache, s);
    else s = this.newSlab(cache);
    if (s < 0) return -1;
    this.slabList[s] = ON_CPU;
    cache.cpuSlab[cpu] = s;
    return this.popObject(s);
  }

  private slubFree(cache: KmemCache, h: number): void {
    const s = this.objSlab[h] ?? 0;
    const inuse = this.pushObject(s, h);
    this.ops++;
    const list = this.slabList[s];
    if (list === ON_CPU) return;
    if (list === ON_FULL) {
      this.listRemove(cache, s);
      if (cache.chainTo >= 0) {
        this.moveSlab(cache, s, cache.chainTo);
        return;
      }
      this.listAdd(cache, s, ON_PARTIAL);
    }
    if (inuse === 0 && cache.nrPartial > MIN_PARTIAL) this.discardSlab(cache, s);
  }

  /** Costa's move_previous_full: a slab of a chained cache joins the target cache on its first free. */
  private moveSlab(from: KmemCache, s: number, to: number): void {
    let target = this.caches[to];
    // The target may itself have died since (a nested removal): follow its chain.
    while (target !== undefined && target.chainTo >= 0) target = this.caches[target.chainTo];
    if (target === undefined) return;
    from.nrSlabs--;
    target.nrSlabs++;
    this.slabCache[s] = target.id;
    this.listAdd(target, s, ON_PARTIAL);
    const inuse = this.slabInuse[s] ?? 0;
    const live = this.liveObjectsOn(s, from.objsPerSlab);
    from.liveObjects -= live;
    target.liveObjects += live;
    if (inuse === 0 && target.nrPartial > MIN_PARTIAL) this.discardSlab(target, s);
    if (from.nrSlabs === 0) this.hooks.onChainedEmpty(from);
  }

  // ---- SLAB ----

  private slabAlloc(cache: KmemCache, cpu: number): number {
    const base = cpu * cache.acLimit;
    let n = cache.acAvail[cpu] ?? 0;
    if (n > 0) {
      n--;
      cache.acAvail[cpu] = n;
      this.ops++;
      return cache.acEntries[base + n] ?? -1;
    }
    // cache_alloc_refill: take a batch from partial slabs, then free ones, then grow.
    this.ops += 2;
    let got = 0;
    while (got < cache.acBatch) {
      let s = cache.partialHead >= 0 ? cache.partialHead : cache.freeHead;
      if (s >= 0) this.listRemove(cache, s);
      else {
        s = this.newSlab(cache);
        if (s < 0) break;
      }
      while (got < cache.acBatch && (this.slabFreeHead[s] ?? -1) >= 0) {
        cache.acEntries[base + got] = this.popObject(s);
        got++;
      }
      this.listAdd(cache, s, (this.slabFreeHead[s] ?? -1) >= 0 ? ON_PARTIAL : ON_FULL);
    }
    if (got === 0) return -1;
    cache.acAvail[cpu] = got - 1;
    return cache.acEntries[base + got - 1] ?? -1;
  }

  private slabFree(cache: KmemCache, h: number, cpu: number): void {
    const base = cpu * cache.acLimit;
    let n = cache.acAvail[cpu] ?? 0;
    if (n >= cache.acLimit) {
      this.flushArray(cache, cpu, cache.acBatch);
      n = cache.acAvail[cpu] ?? 0;
    }
    cache.acEntries[base + n] = h;
    cache.acAvail[cpu] = n + 1;
    this.ops++;
  }

  /** free_block: give the oldest `count` array entries back to their slabs. */
  private flushArray(cache: KmemCache, cpu: number, count: number): void {
    const base = cpu * cache.acLimit;
    const n = cache.acAvail[cpu] ?? 0;
    const k = Math.min(count, n);
    for (let i = 0; i < k; i++) {
      const h = cache.acEntries[base + i] ?? 0;
      const s = this.objSlab[h] ?? 0;
      const owner = this.caches[this.slabCache[s] ?? 0] ?? cache;
      this.listRemove(owner, s);
      const inuse = this.pushObject(s, h);
      this.listAdd(owner, s, inuse === 0 ? ON_FREE : ON_PARTIAL);
    }
    cache.acEntries.copyWithin(base, base + k, base + n);
    cache.acAvail[cpu] = n - k;
    const freeLimit = this.cpus + 1;
    while (cache.nrFree > freeLimit && cache.freeHead >= 0) this.discardSlab(cache, cache.freeHead);
  }

  /** kmem_cache_shrink: drain per-CPU state and give every empty slab back. Returns pages freed. */
  shrink(cache: KmemCache): number {
    const before = this.slabPages;
    if (cache.kind === 'slab') {
      for (let cpu = 0; cpu < this.cpus; cpu++) this.flushArray(cache, cpu, cache.acLimit);
      while (cache.freeHead >= 0) this.discardSlab(cache, cache.freeHead);
    } else {
      for (let cpu = 0; cpu < this.cpus; cpu++) {
        const s = cache.cpuSlab[cpu] ?? -1;
        if (s < 0) continue;
        cache.cpuSlab[cpu] = -1;
        this.slabList[s] = ON_NONE;
        this.listAdd(cache, s, (this.slabFreeHead[s] ?? -1) >= 0 ? ON_PARTIAL : ON_FULL);
      }
      let s = cache.partialHead;
      while (s >= 0) {
        const next = this.slabNext[s] ?? -1;
        if ((this.slabInuse[s] ?? 0) === 0) this.discardSlab(cache, s);
        s = next;
      }
    }
    return before - this.slabPages;
  }

  /** Costa's kmem_switch_slab: partial slabs move to `target` now, full ones on their first free. */
  chain(from: KmemCache, target: KmemCache): void {
    this.shrink(from);
    let s = from.partialHead;
    while (s >= 0) {
      const next = this.slabNext[s] ?? -1;
      this.listRemove(from, s);
      this.moveSlabQuiet(from, s, target);
      s = next;
    }
    from.chainTo = target.id;
    from.dead = true;
    if (from.nrSlabs === 0) this.hooks.onChainedEmpty(from);
  }

  private moveSlabQuiet(from: KmemCache, s: number, target: KmemCache): void {
    const live = this.liveObjectsOn(s, from.objsPerSlab);
    from.nrSlabs--;
    from.liveObjects -= live;
    target.nrSlabs++;
    target.liveObjects += live;
    this.slabCache[s] = target.id;
    this.listAdd(target, s, ON_PARTIAL);
  }

  /** Frees every slab of an empty cache and retires it (kmem_cache_destroy). */
  destroy(cache: KmemCache): void {
    this.shrink(cache);
    for (const s of this.slabsOf(cache)) this.discardSlab(cache, s);
    cache.destroyed = true;
  }

  liveBytes(): number {
    let bytes = 0;
    for (const c of this.caches) bytes += c.liveObjects * c.objSize;
    return bytes;
  }

  /** Live object bytes / slab page bytes. */
  utilisation(): number {
    return this.slabPages === 0 ? 1 : this.liveBytes() / (this.slabPages * PAGE_SIZE);
  }

  activeCaches(): number {
    let n = 0;
    for (const c of this.caches) if (!c.destroyed) n++;
    return n;
  }
}
