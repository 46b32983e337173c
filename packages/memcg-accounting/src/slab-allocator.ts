import { MemcgError } from './errors.js';
import {
  type AllocatorKind,
  type CacheSpec,
  KmemCache,
  ON_CPU,
  ON_FREE,
  ON_FULL,
  ON_NONE,
  ON_PARTIAL,
} from './kmem-cache.js';
import { PAGE_SIZE, type PageAllocator } from './page-allocator.js';

/** SLUB keeps this many empty slabs on a node's partial list before giving pages back (MIN_PARTIAL). */
const MIN_PARTIAL = 5;

/** What the accounting design decides when a slab needs pages or gives them back. */
export interface SlabHooks {
  /** Returns the cgroup charged for the new slab, -1 when nobody is, -2 to refuse (charge failed). */
  onNewSlab(cache: KmemCache, pages: number): number;
  onFreeSlab(chargedTo: number, pages: number): void;
  /** A chained (dead) cache lost its last slab. */
  onChainedEmpty(cache: KmemCache): void;
}

export type AllocFailure = 'none' | 'charge' | 'pages';

function grow32(a: Int32Array, size: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(size);
  b.set(a);
  return b;
}

/**
 * Slab pages and the objects packed into them, for SLUB- and SLAB-like caches. State lives in
 * typed arrays indexed by slab and object handles, so the fast paths allocate nothing.
 */
export class SlabAllocator {
  readonly caches: KmemCache[] = [];
  /** Abstract operations on the allocation path (freelist pops, list moves, page allocations). */
  ops = 0;
  slabPages = 0;
  lastFailure: AllocFailure = 'none';

  private slabCap = 256;
  private nSlabs = 0;
  slabCache = new Int32Array(this.slabCap);
  slabInuse = new Int32Array(this.slabCap);
  slabFreeHead = new Int32Array(this.slabCap);
  slabObjBase = new Int32Array(this.slabCap);
  slabNext = new Int32Array(this.slabCap);
  slabPrev = new Int32Array(this.slabCap);
  slabList = new Int32Array(this.slabCap);
  slabCharge = new Int32Array(this.slabCap);

  private objCap = 4096;
  private nObjs = 0;
  objSlab = new Int32Array(this.objCap);
  objNext = new Int32Array(this.objCap);
  /** 1 while the object belongs to a user (between alloc and free). */
  objLive = new Uint8Array(this.objCap);
  /** Design-specific owner of the object (an obj_cgroup today; the charged cgroup otherwise). */
  objTag = new Int32Array(this.objCap);
  /** The cgroup whose task allocated the object: the truth the accuracy figures compare against. */
  objUser = new Int32Array(this.objCap);

  /** Recycled slab ids per original cache: copies share the geometry, so their slabs can move. */
  private readonly recycle: number[][] = [];

  constructor(
    readonly pages: PageAllocator,
    readonly kind: AllocatorKind,
    readonly cpus: number,
    private readonly hooks: SlabHooks,
  ) {}

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

  isLive(handle: number): boolean {
    return Number.isInteger(handle) && handle >= 0 && handle < this.nObjs && this.objLive[handle] === 1;
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

  // ---- slabs and lists ----

  private listHead(cache: KmemCache, list: number): number {
    return list === ON_PARTIAL ? cache.partialHead : list === ON_FULL ? cache.fullHead : cache.freeHead;
  }

  private setHead(cache: KmemCache, list: number, s: number): void {
    if (list === ON_PARTIAL) cache.partialHead = s;
    else if (list === ON_FULL) cache.fullHead = s;
    else cache.freeHead = s;
  }

  private listAdd(cache: KmemCache, s: number, list: number): void {
    const head = this.listHead(cache, list);
    this.slabNext[s] = head;
    this.slabPrev[s] = -1;
    if (head >= 0) this.slabPrev[head] = s;
    this.setHead(cache, list, s);
    this.slabList[s] = list;
    if (list === ON_PARTIAL) cache.nrPartial++;
    else if (list === ON_FREE) cache.nrFree++;
    this.ops++;
  }

  private listRemove(cache: KmemCache, s: number): void {
    const list = this.slabList[s] ?? ON_NONE;
    if (list === ON_NONE || list === ON_CPU) return;
    const prev = this.slabPrev[s] ?? -1;
    const next = this.slabNext[s] ?? -1;
    if (prev >= 0) this.slabNext[prev] = next;
    else this.setHead(cache, list, next);
    if (next >= 0) this.slabPrev[next] = prev;
    if (list === ON_PARTIAL) cache.nrPartial--;
    else if (list === ON_FREE) cache.nrFree--;
    this.slabList[s] = ON_NONE;
    this.ops++;
  }

  private ensureSlabs(n: number): void {
    if (n <= this.slabCap) return;
    let cap = this.slabCap;
    while (cap < n) cap *= 2;
    this.slabCache = grow32(this.slabCache, cap);
    this.slabInuse = grow32(this.slabInuse, cap);
    this.slabFreeHead = grow32(this.slabFreeHead, cap);
    this.slabObjBase = grow32(this.slabObjBase, cap);
    this.slabNext = grow32(this.slabNext, cap);
    this.slabPrev = grow32(this.slabPrev, cap);
    this.slabList = grow32(this.slabList, cap);
    this.slabCharge = grow32(this.slabCharge, cap);
    this.slabCap = cap;
  }

  private ensureObjs(n: number): void {
    if (n <= this.objCap) return;
    let cap = this.objCap;
    while (cap < n) cap *= 2;
    this.objSlab = grow32(this.objSlab, cap);
    this.objNext = grow32(this.objNext, cap);
    const live = new Uint8Array(cap);
    live.set(this.objLive);
    this.objLive = live;
    this.objTag = grow32(this.objTag, cap);
    this.objUser = grow32(this.objUser, cap);
    this.objCap = cap;
  }

  private newSlab(cache: KmemCache): number {
    this.ops += 4;
    const pages = cache.pagesPerSlab;
    const charged = this.hooks.onNewSlab(cache, pages);
    if (charged === -2) {
      this.lastFailure = 'charge';
      return -1;
    }
    if (!this.pages.alloc(pages)) {
      this.hooks.onFreeSlab(charged, pages);
      this.lastFailure = 'pages';
      return -1;
    }
    const stack = this.recycle[cache.root] ?? [];
    let s = stack.pop() ?? -1;
    if (s < 0) {
      s = this.nSlabs++;
      this.ensureSlabs(this.nSlabs);
      this.slabObjBase[s] = this.nObjs;
      this.nObjs += cache.objsPerSlab;
      this.ensureObjs(this.nObjs);
    }
    const base = this.slabObjBase[s] ?? 0;
    const n = cache.objsPerSlab;
    for (let i = 0; i < n; i++) {
      this.objSlab[base + i] = s;
      this.objNext[base + i] = i + 1 < n ? base + i + 1 : -1;
    }
    this.slabFreeHead[s] = base;
    this.slabInuse[s] = 0;
    this.slabCache[s] = cache.id;
    this.slabCharge[s] = charged;
    this.slabList[s] = ON_NONE;
    cache.nrSlabs++;
    this.slabPages += pages;
    return s;
  }

  private discardSlab(cache: KmemCache, s: number): void {
    this.listRemove(cache, s);
    const pages = cache.pagesPerSlab;
    this.hooks.onFreeSlab(this.slabCharge[s] ?? -1, pages);
    this.pages.free(pages);
    this.slabPages -= pages;
    cache.nrSlabs--;
    this.slabCache[s] = -1;
    (this.recycle[cache.root] ?? []).push(s);
    this.ops += 2;
  }

  private popObject(s: number): number {
    const h = this.slabFreeHead[s] ?? -1;
    this.slabFreeHead[s] = this.objNext[h] ?? -1;
    this.slabInuse[s] = (this.slabInuse[s] ?? 0) + 1;
    return h;
  }

  private pushObject(s: number, h: number): number {
    this.objNext[h] = this.slabFreeHead[s] ?? -1;
    this.slabFreeHead[s] = h;
    const inuse = (this.slabInuse[s] ?? 1) - 1;
    this.slabInuse[s] = inuse;
    return inuse;
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
    let live = 0;
    const base = this.slabObjBase[s] ?? 0;
    for (let i = 0; i < from.objsPerSlab; i++) live += this.objLive[base + i] ?? 0;
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

  /** Every slab of a cache, on whatever list (per-CPU slabs included). */
  slabsOf(cache: KmemCache): number[] {
    const out: number[] = [];
    for (const head of [cache.partialHead, cache.fullHead, cache.freeHead]) {
      for (let s = head; s >= 0; s = this.slabNext[s] ?? -1) out.push(s);
    }
    for (let cpu = 0; cpu < this.cpus; cpu++) {
      const s = cache.cpuSlab[cpu] ?? -1;
      if (s >= 0) out.push(s);
    }
    return out;
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
    let live = 0;
    const base = this.slabObjBase[s] ?? 0;
    for (let i = 0; i < from.objsPerSlab; i++) live += this.objLive[base + i] ?? 0;
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
