import { describe, expect, it } from 'vitest';
import { Prng } from '@kernsim/prng';
import { compareDesigns } from './compare.js';
import { CgroupTree, type KmemRoute } from './cgroup-tree.js';
import { CostaAccounting } from './design-costa.js';
import { ObjcgAccounting } from './design-objcg.js';
import { SouhlalAccounting } from './design-souhlal.js';
import { createDesign } from './designs.js';
import { codeOf } from './testing/code-of.js';
import { Kernel } from './kernel-users.js';
import { churnWorkload, pathCost } from './workloads.js';

const BAD = 'KERNSIM_MEMCG_BAD_ARGUMENT';

describe('bad input at the package edge is a typed error naming the value', () => {
  it('machines, designs and options', () => {
    expect(codeOf(() => createDesign('bogus' as 'costa', { pages: 64, cpus: 1 }))).toBe(BAD);
    for (const config of [{ pages: 1.5, cpus: 1 }, { pages: 64, cpus: 0 }, { pages: Number.NaN, cpus: 1 }, { pages: 64, cpus: 2.5 }]) {
      expect(codeOf(() => createDesign('costa', config))).toBe(BAD);
    }
    expect(codeOf(() => createDesign('souhlal', { pages: 64, cpus: 1 }, { souhlal: { removal: 'later' as 'as-posted' } }))).toBe(BAD);
    for (const scale of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) expect(codeOf(() => churnWorkload('costa', { scale }))).toBe(BAD);
    expect(codeOf(() => churnWorkload('costa', { seed: -1, scale: 0.01 }))).toBe(BAD);
    expect(codeOf(() => compareDesigns({ scale: 0.01 }, ['churn', 'bogus' as 'churn']))).toBe(BAD);
    expect(codeOf(() => pathCost('costa', 0))).toBe(BAD);
    // A bad seed is memcg's own typed error, not the generator's (@kernsim/prng tests its own).
    for (const seed of [1.5, 2 ** 32, Number.NaN]) expect(codeOf(() => churnWorkload('costa', { seed, scale: 0.01 }))).toBe(BAD);
  });

  it('kernel users: sizes, name lengths and counts the kernel would not take', () => {
    const d = createDesign('objcg', { pages: 256, cpus: 2 });
    const k = new Kernel(d);
    const before = JSON.stringify(d.snapshot());
    expect(codeOf(() => k.kmallocIndex(8193))).toBe(BAD);
    expect(codeOf(() => k.kmallocIndex(0))).toBe(BAD);
    expect(codeOf(() => k.skbAlloc(1, 0, 65536))).toBe(BAD);
    expect(codeOf(() => k.lookup(1, 0, 0))).toBe(BAD);
    expect(codeOf(() => k.lookup(1, 0, 256))).toBe(BAD);
    expect(codeOf(() => k.lookup(1, 4, 10))).toBe(BAD);
    expect(codeOf(() => k.walk(1, 0, -1, new Prng(1)))).toBe(BAD);
    expect(codeOf(() => k.shrinkDcache(0, Number.NaN))).toBe(BAD);
    expect(codeOf(() => k.shrinkDcache(77, 10))).toBe('KERNSIM_MEMCG_UNKNOWN_CGROUP');
    expect(codeOf(() => new Kernel(createDesign('costa', { pages: 64, cpus: 1 }), { stackOrder: -1 }))).toBe(BAD);
    expect(JSON.stringify(d.snapshot())).toBe(before);
  });

  it('Costa: registrations need a free index and a shrink function; a kmem limit needs independence', () => {
    const d = new CostaAccounting({ pages: 256, cpus: 1 });
    const a = d.createCache({ name: 'dentry', objSize: 192, account: true });
    const b = d.createCache({ name: 'inode', objSize: 600, account: true });
    d.registerMemcgCache({ index: 0, cache: a, shrink: () => 0 });
    expect(codeOf(() => { d.registerMemcgCache({ index: 0, cache: b, shrink: () => 0 }); })).toBe(BAD);
    expect(codeOf(() => { d.registerMemcgCache({ index: -1, cache: b, shrink: () => 0 }); })).toBe(BAD);
    expect(codeOf(() => { d.registerMemcgCache({ index: 1, cache: b, shrink: null as unknown as () => number }); })).toBe(BAD);
    const cg = d.createCgroup(0, 'a');
    expect(codeOf(() => d.resizeKmemLimit(cg, 4096))).toBe('KERNSIM_MEMCG_KMEM_NOT_INDEPENDENT');
    d.setKmemIndependent(cg, true);
    expect(codeOf(() => d.resizeKmemLimit(cg, Number.NaN))).toBe(BAD);
    expect(d.resizeKmemLimit(cg, 4096)).toBe(0);
  });

  it('today: there is no independent_kmem_limit to set', () => {
    const d = createDesign('objcg', { pages: 64, cpus: 1 });
    const cg = d.createCgroup(0, 'a');
    expect(codeOf(() => { d.setKmemIndependent(cg, true); })).toBe(BAD);
    expect(d.tree.node(cg).kmemIndependent).toBe(false);
  });

  it('the issue\'s probes: a CPU the 4-CPU machine does not have, a negative stack, an unknown counter', () => {
    for (const id of ['costa', 'souhlal', 'objcg'] as const) {
      const d = createDesign(id, { pages: 1024, cpus: 4 });
      const k = new Kernel(d);
      const cg = d.createCgroup(0, 'a');
      d.attach(1, cg);
      const live = [d.alloc(k.dentry, 1, 3, 0)];
      const before = JSON.stringify(d.snapshot());
      for (const cpu of [-1, 4, 5, 1.5, Number.NaN]) expect(codeOf(() => d.alloc(k.dentry, 1, cpu, 0))).toBe(BAD);
      expect(codeOf(() => d.allocStack(1, -1))).toBe(BAD);
      expect(codeOf(() => { d.setLimit(cg, 'kmemory' as 'kmem', 4096); })).toBe(BAD);
      expect(JSON.stringify(d.snapshot())).toBe(before);
      for (const h of live) d.free(h, 3);
    }
  });

  it('constructors check what createDesign checks', () => {
    expect(codeOf(() => new CostaAccounting({ pages: Number.NaN, cpus: 1 }))).toBe(BAD);
    expect(codeOf(() => new SouhlalAccounting({ pages: 64, cpus: 1 }, { trackRoot: 'no' as unknown as boolean }))).toBe(BAD);
    expect(codeOf(() => new ObjcgAccounting(null as unknown as { pages: number; cpus: number }))).toBe(BAD);
  });

  it('the tree takes whole, non-negative charges on its own cgroups along a known route', () => {
    const tree = new CgroupTree();
    const other = new CgroupTree();
    const a = tree.get(tree.apply({ type: 'create', parent: 0, name: 'a' }));
    const before = tree.snapshot();
    expect(codeOf(() => tree.chargeKmem(a, -4096, false, 'both'))).toBe(BAD);
    expect(codeOf(() => tree.chargeKmem(a, 0.5, false, 'kmem'))).toBe(BAD);
    expect(codeOf(() => tree.chargeKmem(a, 4096, false, 'swap' as KmemRoute))).toBe(BAD);
    expect(codeOf(() => { tree.uncharge(a, Number.NaN, 'both'); })).toBe(BAD);
    expect(codeOf(() => tree.chargeKmem(other.get(0), 4096, false, 'both'))).toBe('KERNSIM_MEMCG_UNKNOWN_CGROUP');
    expect(tree.snapshot()).toEqual(before);
  });

  it('a task gets one kernel stack at a time', () => {
    const d = createDesign('souhlal', { pages: 64, cpus: 1 });
    expect(d.allocStack(1, 1)).toBe(true);
    const used = d.pages.usedPages;
    expect(codeOf(() => d.allocStack(1, 1))).toBe(BAD);
    expect(codeOf(() => { d.freeStack(Number.NaN); })).toBe(BAD);
    expect(d.pages.usedPages).toBe(used);
  });
});
