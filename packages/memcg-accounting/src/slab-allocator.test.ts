import { describe, expect, it } from 'vitest';
import { ON_CPU, ON_FULL, ON_PARTIAL, slabOrder } from './kmem-cache.js';
import { PAGE_SIZE, PageAllocator } from './page-allocator.js';
import { SlabAllocator } from './slab-allocator.js';
import type { SlabHooks } from './slab-store.js';

const hooks: SlabHooks = { onNewSlab: () => -1, onFreeSlab: () => undefined, onChainedEmpty: () => undefined };

describe('SLUB-like allocator', () => {
  it('packs objects per slab from object size and order, with a per-CPU active slab', () => {
    const s = new SlabAllocator(new PageAllocator(100), 'slub', 2, hooks);
    const cache = s.createCache({ name: 'c', objSize: 192, account: false }, -1, -1);
    expect(cache.objsPerSlab).toBe(Math.floor((PAGE_SIZE << cache.order) / 192));
    const first = s.alloc(cache, 0, 0);
    expect(s.slabList[s.objSlab[first] ?? 0]).toBe(ON_CPU);
    for (let i = 1; i < cache.objsPerSlab; i++) s.alloc(cache, 0, 0);
    const next = s.alloc(cache, 0, 0);
    expect(s.objSlab[next]).not.toBe(s.objSlab[first]);
    expect(s.slabList[s.objSlab[first] ?? 0]).toBe(ON_FULL);
    s.free(first, 1);
    expect(s.slabList[s.objSlab[first] ?? 0]).toBe(ON_PARTIAL);
    expect(s.utilisation()).toBeCloseTo((cache.objsPerSlab * 192) / (2 * cache.pagesPerSlab * PAGE_SIZE), 6);
  });

  it('fails when the page allocator runs dry, and gives pages back on shrink', () => {
    const pages = new PageAllocator(2);
    const s = new SlabAllocator(pages, 'slub', 1, hooks);
    const cache = s.createCache({ name: 'big', objSize: 2048, account: false }, -1, -1);
    const got: number[] = [];
    for (let h = s.alloc(cache, 0, 0); h >= 0; h = s.alloc(cache, 0, 0)) got.push(h);
    expect(s.lastFailure).toBe('pages');
    for (const h of got) s.free(h, 0);
    s.shrink(cache);
    expect(pages.usedPages).toBe(0);
  });
});

describe('SLAB-like allocator', () => {
  it('serves from the per-CPU array, refilled a batch at a time, and flushes a batch when full', () => {
    const s = new SlabAllocator(new PageAllocator(1000), 'slab', 1, hooks);
    const cache = s.createCache({ name: 'c', objSize: 64, account: false }, -1, -1);
    s.alloc(cache, 0, 0);
    expect(cache.acAvail[0]).toBe(cache.acBatch - 1);
    const objs: number[] = [];
    for (let i = 0; i < 2 * cache.acLimit; i++) objs.push(s.alloc(cache, 0, 0));
    for (const h of objs) s.free(h, 0);
    expect(cache.acAvail[0]).toBeLessThanOrEqual(cache.acLimit);
    expect(cache.liveObjects).toBe(1);
  });

  it('uses order-0 slabs for small objects and larger orders for large ones', () => {
    expect(slabOrder(64, 'slab')).toBe(0);
    expect(slabOrder(8192, 'slub')).toBeGreaterThan(1);
  });
});
