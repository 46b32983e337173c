import { describe, expect, it } from 'vitest';
import { Prng } from '@kernsim/prng';
import { ROOT_CGROUP } from './cgroup-tree.js';
import { createDesign } from './designs.js';
import { Kernel } from './kernel-users.js';
import { PAGE_SIZE } from './page-allocator.js';

describe('kernel users of slab memory', () => {
  it('a find walk leaves dentries and inodes on the cgroup LRU; the shrinker frees the oldest of them', () => {
    const d = createDesign('objcg', { pages: 4096, cpus: 1 });
    const k = new Kernel(d);
    const a = d.createCgroup(ROOT_CGROUP, 'a');
    d.attach(1, a);
    expect(k.walk(1, 0, 100, new Prng(1))).toBe(0);
    expect(k.cachedDentries(a)).toBe(100);
    const live = d.slabs.liveBytes();
    expect(k.shrinkDcache(a, 40)).toBe(40);
    expect(k.cachedDentries(a)).toBe(60);
    expect(d.slabs.liveBytes()).toBeLessThanOrEqual(live - 40 * (192 + 600));
  });

  it('global reclaim takes from cgroups above their soft limit first', () => {
    const d = createDesign('souhlal', { pages: 4096, cpus: 1 });
    const k = new Kernel(d);
    const a = d.createCgroup(ROOT_CGROUP, 'a');
    const b = d.createCgroup(ROOT_CGROUP, 'b');
    d.attach(1, a);
    d.attach(2, b);
    k.walk(1, 0, 50, new Prng(1));
    k.walk(2, 0, 50, new Prng(2));
    d.tree.apply({ type: 'setSoftLimit', cgroup: b, counter: 'kmem', bytes: PAGE_SIZE });
    k.shrinkDcache(-1, 30, true);
    expect(k.globalEvictions.get(b)).toBe(30);
    expect(k.globalEvictions.get(a)).toBeUndefined();
  });

  it('charges task stacks only in the design that accounts them (today), with today\'s order-2 stacks', () => {
    for (const id of ['costa', 'souhlal', 'objcg'] as const) {
      const d = createDesign(id, { pages: 4096, cpus: 1 });
      const k = new Kernel(d);
      const a = d.createCgroup(ROOT_CGROUP, 'a');
      d.attach(1, a);
      expect(k.fork(1)).toBe(true);
      expect(d.tree.node(a).kmem.usage).toBe(id === 'objcg' ? 4 * PAGE_SIZE : 0);
      k.exit(1);
      expect(d.tree.node(a).kmem.usage).toBe(0);
    }
  });

  it('socket buffers come from atomic context: Souhlal serves them from the original cache until the split is done', () => {
    const d = createDesign('souhlal', { pages: 4096, cpus: 1 });
    const k = new Kernel(d);
    const a = d.createCgroup(ROOT_CGROUP, 'a');
    d.attach(1, a);
    expect(k.skbAlloc(1, 0, 1500)).not.toBeNull();
    expect(d.stats.escapedBytes).toBe(256 + 2048);
    d.runWork();
    k.skbAlloc(1, 0, 1500);
    expect(d.stats.escapedBytes).toBe(256 + 2048);
  });
});

describe('interrupt context', () => {
  it('is charged to nobody in any design (received packets in softirq)', () => {
    for (const id of ['costa', 'souhlal', 'objcg'] as const) {
      const d = createDesign(id, { pages: 4096, cpus: 1 });
      const k = new Kernel(d);
      const a = d.createCgroup(ROOT_CGROUP, 'a');
      d.attach(1, a);
      for (let i = 0; i < 50; i++) expect(k.skbAlloc(1, 0, 1500, true)).not.toBeNull();
      d.runWork();
      expect(d.tree.node(a).kmem.usage).toBe(0);
      expect(d.stats.deferredSplits).toBe(0);
    }
  });
});
