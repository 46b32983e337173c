import { PAGE_SIZE } from './page-allocator.js';

export type AllocatorKind = 'slub' | 'slab';

/** Which list a slab is on. SLUB keeps full slabs on a list too (as with debugging on) so they can be found. */
export const ON_NONE = 0;
export const ON_PARTIAL = 1;
export const ON_FULL = 2;
export const ON_FREE = 3;
export const ON_CPU = 4;

export interface CacheSpec {
  readonly name: string;
  readonly objSize: number;
  /** SLAB_ACCOUNT: today's design charges this cache's objects without __GFP_ACCOUNT. */
  readonly account: boolean;
}

/** Slab order: the smallest order that packs enough objects with little waste, as both allocators aim to. */
export function slabOrder(objSize: number, kind: AllocatorKind): number {
  const minObjects = kind === 'slub' ? 8 : 1;
  for (let order = 0; order <= 3; order++) {
    const bytes = PAGE_SIZE << order;
    const objs = Math.floor(bytes / objSize);
    if (objs >= 1 && (objs >= minObjects || order === 3) && (bytes - objs * objSize) * 8 <= bytes) return order;
  }
  return 3;
}

/** SLAB's per-CPU array size for an object size (enable_cpucache's table). */
function arrayLimit(objSize: number): number {
  if (objSize > PAGE_SIZE) return 8;
  if (objSize > 1024) return 24;
  if (objSize > 256) return 54;
  return 120;
}

/** A kmem_cache: an original (root) cache or a per-cgroup copy of one. */
export class KmemCache {
  readonly order: number;
  readonly objsPerSlab: number;
  readonly pagesPerSlab: number;
  nrSlabs = 0;
  liveObjects = 0;
  dead = false;
  destroyed = false;
  /** Costa's chained cache: slabs move here on their first free after the owner's removal. */
  chainTo = -1;
  // SLUB
  readonly cpuSlab: Int32Array;
  partialHead = -1;
  nrPartial = 0;
  fullHead = -1;
  // SLAB
  freeHead = -1;
  nrFree = 0;
  readonly acLimit: number;
  readonly acBatch: number;
  readonly acAvail: Int32Array;
  readonly acEntries: Int32Array;

  constructor(
    readonly id: number,
    readonly spec: CacheSpec,
    readonly kind: AllocatorKind,
    /** The cgroup this copy belongs to, or -1 for an original cache. */
    readonly owner: number,
    /** The original cache this is a copy of (itself for an original). */
    readonly root: number,
    cpus: number,
  ) {
    this.order = slabOrder(spec.objSize, kind);
    this.pagesPerSlab = 1 << this.order;
    this.objsPerSlab = Math.floor((PAGE_SIZE << this.order) / spec.objSize);
    this.cpuSlab = new Int32Array(cpus).fill(-1);
    this.acLimit = kind === 'slab' ? arrayLimit(spec.objSize) : 0;
    this.acBatch = Math.max(1, (this.acLimit + 1) >> 1);
    this.acAvail = new Int32Array(kind === 'slab' ? cpus : 0);
    this.acEntries = new Int32Array(kind === 'slab' ? cpus * this.acLimit : 0);
  }

  get objSize(): number {
    return this.spec.objSize;
  }

  get name(): string {
    return this.spec.name;
  }
}
