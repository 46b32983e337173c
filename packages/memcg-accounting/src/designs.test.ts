import { describe, expect, it } from 'vitest';
import { GFP_ATOMIC, GFP_KERNEL, GFP_NOACCOUNT, GFP_NOFAIL, type Accounting } from './accounting.js';
import { ROOT_CGROUP } from './cgroup-tree.js';
import { CostaAccounting } from './design-costa.js';
import { ObjcgAccounting } from './design-objcg.js';
import { SouhlalAccounting } from './design-souhlal.js';
import { codeOf } from './testing/code-of.js';
import { PAGE_SIZE } from './page-allocator.js';
import { pathCost } from './workloads.js';

const config = { pages: 4096, cpus: 2 };
const spec = { name: 'dentry', objSize: 192, account: true };
const other = { name: 'kmalloc-64', objSize: 64, account: false };

function allocMany(d: Accounting, cache: number, task: number, n: number, flags = GFP_KERNEL): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(d.alloc(cache, task, 0, flags));
  return out;
}

describe('Costa (opt-in, SLUB, per-cgroup copies of registered caches)', () => {
  function setup(): { d: CostaAccounting; dentry: number; km: number; shrunk: number[] } {
    const d = new CostaAccounting(config);
    const dentry = d.createCache(spec);
    const km = d.createCache(other);
    const shrunk: number[] = [];
    d.registerMemcgCache({ index: 0, cache: dentry, shrink: (cg) => (shrunk.push(cg), 0) });
    return { d, dentry, km, shrunk };
  }

  it('copies registered caches when a cgroup is created, and only those', () => {
    const { d } = setup();
    const before = d.slabs.activeCaches();
    d.createCgroup(ROOT_CGROUP, 'a');
    expect(d.slabs.activeCaches()).toBe(before + 1);
  });

  it('charges slab pages of registered caches and lets unregistered ones escape', () => {
    const { d, dentry, km } = setup();
    const a = d.createCgroup(ROOT_CGROUP, 'a');
    d.setKmemIndependent(a, true);
    d.attach(1, a);
    allocMany(d, dentry, 1, 1);
    allocMany(d, km, 1, 10);
    const node = d.tree.node(a);
    expect(node.kmem.usage).toBe(PAGE_SIZE);
    expect(d.stats.escapedBytes).toBe(640);
  });

  it('charges the kmem counter or the memory counter, never both (memcg_kmem in patch 3/7)', () => {
    const { d, dentry } = setup();
    const joint = d.createCgroup(ROOT_CGROUP, 'joint');
    const independent = d.createCgroup(ROOT_CGROUP, 'independent');
    d.setKmemIndependent(independent, true);
    d.attach(1, joint);
    d.attach(2, independent);
    const objs = [...allocMany(d, dentry, 1, 22), ...allocMany(d, dentry, 2, 1)];
    expect(d.tree.node(joint).memory.usage).toBe(2 * PAGE_SIZE);
    expect(d.tree.node(joint).kmem.usage).toBe(0);
    expect(d.kernelCounter(joint)).toBe(d.tree.node(joint).memory);
    expect(d.tree.node(independent).kmem.usage).toBe(PAGE_SIZE);
    expect(d.tree.node(independent).memory.usage).toBe(0);
    // A memory limit now limits the joint cgroup's kernel memory; a kmem limit is refused (-EINVAL).
    expect(codeOf(() => { d.setLimit(joint, 'kmem', 8 * PAGE_SIZE); })).toBe('KERNSIM_MEMCG_KMEM_NOT_INDEPENDENT');
    d.setLimit(joint, 'memory', 2 * PAGE_SIZE);
    expect(allocMany(d, dentry, 1, 30).filter((h) => h < 0).length).toBeGreaterThan(0);
    expect(d.tree.node(joint).memory.failcnt).toBeGreaterThan(0);
    for (const h of objs) d.free(h, 0);
    expect(d.tree.cost.clamps).toBe(0);
  });

  it('children inherit independent_kmem_limit; only a childless cgroup below the root may change it', () => {
    const { d } = setup();
    const p = d.createCgroup(ROOT_CGROUP, 'p');
    d.setKmemIndependent(p, true);
    const c = d.createCgroup(p, 'c');
    expect(d.tree.node(c).kmemIndependent).toBe(true);
    expect(codeOf(() => { d.setKmemIndependent(c, false); })).toBe('KERNSIM_MEMCG_BAD_ARGUMENT');
    expect(codeOf(() => { d.setKmemIndependent(p, false); })).toBe('KERNSIM_MEMCG_CGROUP_HAS_CHILDREN');
  });

  it('does not track the root cgroup, and with no other cgroup does no accounting work', () => {
    const { d, dentry } = setup();
    allocMany(d, dentry, 1, 50);
    expect(d.tree.node(ROOT_CGROUP).kmem.usage).toBe(0);
    const cost = pathCost('costa', 20);
    expect(cost.onUnused).toBe(cost.off);
    expect(cost.on).toBeGreaterThan(cost.off);
  });

  it('over the limit runs the cache shrink function for that cgroup, retries, then fails', () => {
    const { d, dentry, shrunk } = setup();
    const a = d.createCgroup(ROOT_CGROUP, 'a');
    d.setKmemIndependent(a, true);
    d.setLimit(a, 'kmem', PAGE_SIZE);
    d.attach(1, a);
    const got = allocMany(d, dentry, 1, 30);
    expect(got.filter((h) => h < 0).length).toBeGreaterThan(0);
    expect(shrunk).toContain(a);
    expect(d.tree.node(a).kmem.failcnt).toBeGreaterThan(0);
  });

  it('nested removals: slabs waiting in a dead copy follow the chain, and nothing is uncharged twice', () => {
    const { d, dentry } = setup();
    const p = d.createCgroup(ROOT_CGROUP, 'p');
    const c = d.createCgroup(p, 'c');
    d.attach(1, c);
    const objs = allocMany(d, dentry, 1, 21 * 6);
    d.exit(1);
    d.removeCgroup(c);
    d.removeCgroup(p);
    expect(d.tree.node(ROOT_CGROUP).localKmemMemoryOnly).toBe(6 * PAGE_SIZE);
    expect(d.tree.node(ROOT_CGROUP).memory.usage).toBe(6 * PAGE_SIZE);
    for (const h of objs) d.free(h, 0);
    expect(d.tree.cost.clamps).toBe(0);
    expect(d.deadCaches()).toBe(0);
    expect(d.deadCgroupsAlive()).toBe(0);
  });

  it('shrinks before refusing a kmem limit below the usage (mem_cgroup_resize_kmem_limit)', () => {
    const d = new CostaAccounting(config);
    const dentry = d.createCache(spec);
    const live: number[] = [];
    d.registerMemcgCache({
      index: 0,
      cache: dentry,
      shrink: (_cg, n) => {
        const gone = live.splice(0, n);
        for (const h of gone) d.free(h, 0);
        return gone.length;
      },
    });
    const a = d.createCgroup(ROOT_CGROUP, 'a');
    d.setKmemIndependent(a, true);
    d.attach(1, a);
    live.push(...allocMany(d, dentry, 1, 21 * 10));
    expect(d.tree.node(a).kmem.usage).toBe(10 * PAGE_SIZE);
    expect(d.resizeKmemLimit(a, 8 * PAGE_SIZE)).toBeGreaterThan(0);
    expect(d.tree.node(a).kmem.limit).toBe(8 * PAGE_SIZE);
    expect(live).toHaveLength(0);
    // SLUB keeps empty slabs on the partial list (MIN_PARTIAL): their pages stay charged.
    expect(d.tree.node(a).kmem.usage).toBeGreaterThan(0);
    expect(codeOf(() => d.resizeKmemLimit(a, 0))).toBe('KERNSIM_MEMCG_LIMIT_BELOW_USAGE');
  });

  it('on removal the parent inherits the charges and the dead copy pins the cgroup until its slabs leave', () => {
    const { d, dentry } = setup();
    const p = d.createCgroup(ROOT_CGROUP, 'p');
    const c = d.createCgroup(p, 'c');
    d.attach(1, c);
    const objs = allocMany(d, dentry, 1, 21 * 3);
    const charged = d.tree.kernelCharged(d.tree.node(c));
    expect(charged).toBe(3 * PAGE_SIZE);
    d.exit(1);
    d.removeCgroup(c);
    expect(d.tree.node(p).memory.usage).toBe(charged);
    expect(d.tree.node(p).localKmemMemoryOnly).toBe(charged);
    expect(d.deadCgroupsAlive()).toBe(1);
    for (const h of objs) d.free(h, 0);
    expect(d.deadCgroupsAlive()).toBe(0);
    expect(d.deadCaches()).toBe(0);
  });
});

describe('Souhlal (opt-out, SLAB, caches split on first use)', () => {
  it('splits a cache on a cgroup first allocation from it', () => {
    const d = new SouhlalAccounting(config);
    const dentry = d.createCache(spec);
    const a = d.createCgroup(ROOT_CGROUP, 'a');
    d.attach(1, a);
    const before = d.slabs.activeCaches();
    allocMany(d, dentry, 1, 3);
    expect(d.slabs.activeCaches()).toBe(before + 1);
    expect(d.tree.node(a).kmem.usage).toBeGreaterThan(0);
  });

  it('does not charge __GFP_NOACCOUNT allocations to the cgroup', () => {
    const d = new SouhlalAccounting(config);
    const km = d.createCache(other);
    const a = d.createCgroup(ROOT_CGROUP, 'a');
    d.attach(1, a);
    allocMany(d, km, 1, 10, GFP_NOACCOUNT);
    expect(d.tree.node(a).kmem.usage).toBe(0);
  });

  it('in atomic context queues the split and serves the allocation from the original cache', () => {
    const d = new SouhlalAccounting(config);
    const km = d.createCache(other);
    const a = d.createCgroup(ROOT_CGROUP, 'a');
    d.attach(1, a);
    allocMany(d, km, 1, 5, GFP_ATOMIC);
    expect(d.tree.node(a).kmem.usage).toBe(0);
    expect(d.stats.deferredSplits).toBe(5);
    expect(d.runWork()).toBe(1);
    allocMany(d, km, 1, 1, GFP_ATOMIC);
    expect(d.tree.node(a).kmem.usage).toBeGreaterThan(0);
  });

  it('tracks the root cgroup unless configured off', () => {
    for (const trackRoot of [true, false]) {
      const d = new SouhlalAccounting(config, { trackRoot });
      const km = d.createCache(other);
      allocMany(d, km, 1, 10);
      expect(d.tree.node(ROOT_CGROUP).kmem.usage > 0).toBe(trackRoot);
    }
  });

  it('on removal moves the charges to the root cgroup and keeps dead caches until they empty', () => {
    const d = new SouhlalAccounting(config, { trackRoot: false });
    const km = d.createCache(other);
    const p = d.createCgroup(ROOT_CGROUP, 'p');
    const c = d.createCgroup(p, 'c');
    d.attach(1, c);
    const objs = allocMany(d, km, 1, 100);
    const charged = d.tree.node(c).kmem.usage;
    d.exit(1);
    d.removeCgroup(c);
    expect(d.tree.node(p).kmem.usage).toBe(0);
    expect(d.tree.node(ROOT_CGROUP).localKmem).toBe(charged);
    expect(d.deadCaches()).toBe(1);
    for (const h of objs) d.free(h, 0);
    expect(d.deadCaches()).toBe(0);
    expect(d.tree.node(ROOT_CGROUP).kmem.usage).toBe(0);
  });
});

describe('Souhlal as posted', () => {
  it('drops the charges at removal; freeing the dead cache later uncharges the root, which clamps', () => {
    const d = new SouhlalAccounting(config, { removal: 'as-posted' });
    const km = d.createCache(other);
    const c = d.createCgroup(ROOT_CGROUP, 'c');
    d.attach(1, c);
    const objs = allocMany(d, km, 1, 100);
    d.exit(1);
    d.removeCgroup(c);
    expect(d.tree.node(ROOT_CGROUP).kmem.usage).toBe(0);
    for (const h of objs) d.free(h, 0);
    expect(d.tree.cost.clamps).toBeGreaterThan(0);
    expect(d.tree.node(ROOT_CGROUP).kmem.usage).toBe(0);
  });
});

describe('today: obj_cgroup (shared caches, per-object bytes)', () => {
  it('charges bytes per object, rounding to pages only once through the per-CPU stock', () => {
    const d = new ObjcgAccounting(config);
    const dentry = d.createCache(spec);
    const a = d.createCgroup(ROOT_CGROUP, 'a');
    d.attach(1, a);
    const before = d.slabs.activeCaches();
    allocMany(d, dentry, 1, 10);
    expect(d.slabs.activeCaches()).toBe(before);
    expect(d.tree.node(a).kmem.usage).toBe(Math.ceil((10 * 192) / PAGE_SIZE) * PAGE_SIZE);
  });

  it('re-owns objects by the parent when their cgroup goes away; the obj_cgroup lives while objects do', () => {
    const d = new ObjcgAccounting(config);
    const dentry = d.createCache(spec);
    const p = d.createCgroup(ROOT_CGROUP, 'p');
    const c = d.createCgroup(p, 'c');
    d.attach(1, c);
    const objs = allocMany(d, dentry, 1, 50);
    const charged = d.tree.node(c).kmem.usage;
    d.exit(1);
    d.removeCgroup(c);
    expect(d.tree.node(p).kmem.usage).toBe(charged);
    expect(d.deadObjcgsAlive()).toBe(1);
    expect(d.deadCgroupsAlive()).toBe(0);
    for (const h of objs) d.free(h, 0);
    expect(d.deadObjcgsAlive()).toBe(0);
    expect(d.tree.node(p).kmem.usage).toBeLessThan(PAGE_SIZE * 2);
  });

  it('lets atomic and __GFP_NOFAIL charges through over the limit and counts them as forced', () => {
    const d = new ObjcgAccounting(config);
    const km = d.createCache(other);
    const a = d.createCgroup(ROOT_CGROUP, 'a');
    d.setLimit(a, 'kmem', PAGE_SIZE);
    d.attach(1, a);
    allocMany(d, km, 1, 200, GFP_ATOMIC | 8);
    allocMany(d, km, 1, 10, GFP_NOFAIL | 8);
    const node = d.tree.node(a);
    expect(node.kmem.usage).toBeGreaterThan(PAGE_SIZE);
    expect(node.kmem.forcedCharges).toBeGreaterThan(0);
    expect(d.stats.failedAllocs).toBe(0);
  });
});

describe('typed errors change nothing', () => {
  for (const make of [
    () => new CostaAccounting(config),
    () => new SouhlalAccounting(config),
    () => new ObjcgAccounting(config),
  ]) {
    it(`${make().id}: double free, removing a cgroup with tasks, limit below usage, unknown cgroup`, () => {
      const d = make();
      const dentry = d.createCache(spec);
      if (d instanceof CostaAccounting) d.registerMemcgCache({ index: 0, cache: dentry, shrink: () => 0 });
      const a = d.createCgroup(ROOT_CGROUP, 'a');
      if (d instanceof CostaAccounting) d.setKmemIndependent(a, true);
      d.attach(1, a);
      const [h] = allocMany(d, dentry, 1, 30);
      d.free(h ?? -1, 0);
      const before = JSON.stringify(d.snapshot());
      expect(codeOf(() => { d.free(h ?? -1, 0); })).toBe('KERNSIM_MEMCG_DOUBLE_FREE');
      expect(codeOf(() => { d.removeCgroup(a); })).toBe('KERNSIM_MEMCG_CGROUP_HAS_TASKS');
      expect(codeOf(() => { d.setLimit(a, 'kmem', 1); })).toBe('KERNSIM_MEMCG_LIMIT_BELOW_USAGE');
      expect(codeOf(() => { d.attach(2, 42); })).toBe('KERNSIM_MEMCG_UNKNOWN_CGROUP');
      expect(codeOf(() => d.alloc(99, 1, 0, 0))).toBe('KERNSIM_MEMCG_UNKNOWN_CACHE');
      expect(JSON.stringify(d.snapshot())).toBe(before);
    });
  }
});
