import {
  type AllocatorKind,
  type KmemCache,
  ON_CPU,
  ON_FREE,
  ON_FULL,
  ON_NONE,
  ON_PARTIAL,
} from './kmem-cache.js';
import type { PageAllocator } from './page-allocator.js';

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
 * The slabs themselves: slab and object records in typed arrays indexed by handle (so the
 * fast paths allocate nothing), a cache's partial/full/free lists, and getting a slab's
 * pages from the page allocator (charged through the hooks) and giving them back.
 * `SlabAllocator` puts the SLUB and SLAB allocation policies on top.
 */
export class SlabStore {
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
  protected readonly recycle: number[][] = [];

  constructor(
    readonly pages: PageAllocator,
    readonly kind: AllocatorKind,
    readonly cpus: number,
    protected readonly hooks: SlabHooks,
  ) {}

  isLive(handle: number): boolean {
    return Number.isInteger(handle) && handle >= 0 && handle < this.nObjs && this.objLive[handle] === 1;
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

  private listHead(cache: KmemCache, list: number): number {
    return list === ON_PARTIAL ? cache.partialHead : list === ON_FULL ? cache.fullHead : cache.freeHead;
  }

  private setHead(cache: KmemCache, list: number, s: number): void {
    if (list === ON_PARTIAL) cache.partialHead = s;
    else if (list === ON_FULL) cache.fullHead = s;
    else cache.freeHead = s;
  }

  protected listAdd(cache: KmemCache, s: number, list: number): void {
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

  protected listRemove(cache: KmemCache, s: number): void {
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

  protected newSlab(cache: KmemCache): number {
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

  protected discardSlab(cache: KmemCache, s: number): void {
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

  protected popObject(s: number): number {
    const h = this.slabFreeHead[s] ?? -1;
    this.slabFreeHead[s] = this.objNext[h] ?? -1;
    this.slabInuse[s] = (this.slabInuse[s] ?? 0) + 1;
    return h;
  }

  protected pushObject(s: number, h: number): number {
    this.objNext[h] = this.slabFreeHead[s] ?? -1;
    this.slabFreeHead[s] = h;
    const inuse = (this.slabInuse[s] ?? 1) - 1;
    this.slabInuse[s] = inuse;
    return inuse;
  }

  /** Objects of slab `s` that belong to a user (the slab holds `objsPerSlab` of them). */
  protected liveObjectsOn(s: number, objsPerSlab: number): number {
    let live = 0;
    const base = this.slabObjBase[s] ?? 0;
    for (let i = 0; i < objsPerSlab; i++) live += this.objLive[base + i] ?? 0;
    return live;
  }
}
