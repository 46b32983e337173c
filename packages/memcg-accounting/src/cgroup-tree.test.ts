import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Cgroup, CgroupTree, ROOT_CGROUP } from './cgroup-tree.js';
import { MemcgError } from './errors.js';
import { codeOf } from './testing/code-of.js';

function build(): { tree: CgroupTree; a: Cgroup; b: Cgroup } {
  const tree = new CgroupTree();
  const a = tree.get(tree.apply({ type: 'create', parent: ROOT_CGROUP, name: 'a' }));
  const b = tree.get(tree.apply({ type: 'create', parent: a.id, name: 'b' }));
  return { tree, a, b };
}

describe('res_counter charge through the tree', () => {
  it('fails at the first ancestor over its limit, counts its failcnt and rolls back the levels below', () => {
    const { tree, a, b } = build();
    tree.apply({ type: 'setKmemIndependent', cgroup: b.id, independent: true });
    tree.apply({ type: 'setLimit', cgroup: a.id, counter: 'kmem', bytes: 8192 });
    expect(tree.chargeKmem(b, 4096, false, 'kmem')).toBe(-1);
    expect(tree.chargeKmem(b, 8192, false, 'kmem')).toBe(a.id);
    expect(a.kmem.failcnt).toBe(1);
    expect(b.kmem.failcnt).toBe(0);
    expect(b.kmem.usage).toBe(4096);
    expect(a.kmem.usage).toBe(4096);
    expect(tree.get(ROOT_CGROUP).kmem.usage).toBe(4096);
  });

  it('charges kernel memory along its route: both counters, kmem only, or memory only', () => {
    const { tree, a, b } = build();
    tree.chargeKmem(a, 4096, false, 'both');
    tree.chargeKmem(b, 4096, false, 'kmem');
    tree.chargeKmem(b, 2 * 4096, false, 'memory');
    expect(a.memory.usage).toBe(3 * 4096);
    expect(a.kmem.usage).toBe(2 * 4096);
    expect(b.memory.usage).toBe(2 * 4096);
    expect(b.kmem.usage).toBe(4096);
    expect(tree.kernelCharged(a)).toBe(4 * 4096);
    tree.uncharge(b, 2 * 4096, 'memory');
    expect(b.memory.usage).toBe(0);
    expect(b.kmem.usage).toBe(4096);
    expect(tree.kernelCharged(b)).toBe(4096);
    expect(tree.cost.clamps).toBe(0);
  });

  it('a memory-limit failure of a kmem charge rolls back the kmem counter as well', () => {
    const { tree, a } = build();
    tree.apply({ type: 'setLimit', cgroup: a.id, counter: 'memory', bytes: 4096 });
    expect(tree.chargeKmem(a, 8192, false, 'both')).toBe(a.id);
    expect(a.kmem.usage).toBe(0);
    expect(a.memory.failcnt).toBe(1);
  });

  it('never uncharges below zero: the kernel warns and clamps', () => {
    const { tree, a } = build();
    tree.chargeKmem(a, 4096, false, 'both');
    tree.uncharge(a, 10000, 'both');
    expect(a.kmem.usage).toBe(0);
    expect(tree.cost.clamps).toBeGreaterThan(0);
  });

  it('a no-fail charge may pass the limit and says so', () => {
    const { tree, a } = build();
    tree.apply({ type: 'setLimit', cgroup: a.id, counter: 'kmem', bytes: 4096 });
    expect(tree.chargeKmem(a, 8192, true, 'both')).toBe(-1);
    expect(a.kmem.usage).toBe(8192);
    expect(a.kmem.forcedCharges).toBe(1);
  });
});

describe('invalid operations: typed errors that change nothing', () => {
  it('rejects a limit below usage with the state untouched', () => {
    const { tree, a } = build();
    tree.chargeKmem(a, 8192, false, 'both');
    const before = tree.snapshot();
    expect(codeOf(() => tree.apply({ type: 'setLimit', cgroup: a.id, counter: 'kmem', bytes: 4096 }))).toBe(
      'KERNSIM_MEMCG_LIMIT_BELOW_USAGE',
    );
    expect(tree.snapshot()).toEqual(before);
  });

  it('refuses to remove a cgroup with tasks, with children, the root, or an unknown one', () => {
    const { tree, a, b } = build();
    tree.apply({ type: 'attach', task: 7, cgroup: b.id });
    const before = tree.snapshot();
    expect(codeOf(() => tree.checkRemovable(b.id))).toBe('KERNSIM_MEMCG_CGROUP_HAS_TASKS');
    expect(codeOf(() => tree.checkRemovable(a.id))).toBe('KERNSIM_MEMCG_CGROUP_HAS_CHILDREN');
    expect(codeOf(() => tree.checkRemovable(ROOT_CGROUP))).toBe('KERNSIM_MEMCG_ROOT_IMMUTABLE');
    expect(codeOf(() => tree.checkRemovable(99))).toBe('KERNSIM_MEMCG_UNKNOWN_CGROUP');
    expect(codeOf(() => tree.apply({ type: 'exit', task: 8 }))).toBe('KERNSIM_MEMCG_UNKNOWN_TASK');
    expect(tree.snapshot()).toEqual(before);
  });
});

describe('bad input at the tree edge', () => {
  it('names outside the model are typed errors, not TypeErrors, and change nothing', () => {
    const { tree, a } = build();
    const before = tree.snapshot();
    const bad = (op: unknown) => codeOf(() => tree.apply(op as Parameters<CgroupTree['apply']>[0]));
    expect(bad({ type: 'setLimit', cgroup: a.id, counter: 'swap', bytes: 4096 })).toBe('KERNSIM_MEMCG_BAD_ARGUMENT');
    expect(bad({ type: 'setSoftLimit', cgroup: a.id, counter: '__proto__', bytes: 4096 })).toBe('KERNSIM_MEMCG_BAD_ARGUMENT');
    for (const bytes of [-1, 1.5, Number.NaN, '4096', Number.NEGATIVE_INFINITY]) {
      expect(bad({ type: 'setLimit', cgroup: a.id, counter: 'kmem', bytes })).toBe('KERNSIM_MEMCG_BAD_ARGUMENT');
    }
    for (const name of ['', 'a/b', 'x\u001b]0;pwned\u0007', 42]) expect(bad({ type: 'create', parent: a.id, name })).toBe('KERNSIM_MEMCG_BAD_ARGUMENT');
    for (const task of [-1, 1.5, Number.NaN]) expect(bad({ type: 'attach', task, cgroup: a.id })).toBe('KERNSIM_MEMCG_BAD_ARGUMENT');
    expect(bad({ type: 'setKmemIndependent', cgroup: a.id, independent: 'yes' })).toBe('KERNSIM_MEMCG_BAD_ARGUMENT');
    expect(bad({ type: 'attach', task: 1, cgroup: 1.5 })).toBe('KERNSIM_MEMCG_UNKNOWN_CGROUP');
    expect(bad({ type: 'rename', cgroup: a.id })).toBe('KERNSIM_MEMCG_BAD_ARGUMENT');
    expect(tree.snapshot()).toEqual(before);
    expect(bad({ type: 'setLimit', cgroup: a.id, counter: 'kmem', bytes: Number.POSITIVE_INFINITY })).toBeUndefined();
  });
});

type Op =
  | { kind: 'create'; parent: number }
  | { kind: 'charge'; cg: number; pages: number; force: boolean }
  | { kind: 'uncharge'; cg: number; pages: number }
  | { kind: 'limit'; cg: number; pages: number }
  | { kind: 'remove'; cg: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('create' as const), parent: fc.nat(12) }),
  fc.record({ kind: fc.constant('charge' as const), cg: fc.nat(12), pages: fc.integer({ min: 1, max: 6 }), force: fc.boolean() }),
  fc.record({ kind: fc.constant('uncharge' as const), cg: fc.nat(12), pages: fc.integer({ min: 1, max: 6 }) }),
  fc.record({ kind: fc.constant('limit' as const), cg: fc.nat(12), pages: fc.integer({ min: 0, max: 20 }) }),
  fc.record({ kind: fc.constant('remove' as const), cg: fc.nat(12) }),
);

describe('properties over random operation sequences', () => {
  it('conserves charges across the tree, never goes negative, and holds limits except for forced charges', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 80, size: 'max' }), (ops) => {
        const tree = new CgroupTree();
        const live = (): Cgroup[] => tree.nodes.filter((n) => !n.removed);
        for (const op of ops) {
          const nodes = live();
          const pick = (i: number): Cgroup => nodes[i % nodes.length] ?? tree.get(ROOT_CGROUP);
          try {
            switch (op.kind) {
              case 'create':
                tree.apply({ type: 'create', parent: pick(op.parent).id, name: 'c' });
                break;
              case 'charge':
                tree.chargeKmem(pick(op.cg), op.pages * 4096, op.force, 'both');
                break;
              case 'uncharge': {
                const n = pick(op.cg);
                tree.uncharge(n, Math.min(n.localKmem, op.pages * 4096), 'both');
                break;
              }
              case 'limit':
                tree.apply({ type: 'setLimit', cgroup: pick(op.cg).id, counter: 'kmem', bytes: op.pages * 4096 });
                break;
              case 'remove': {
                const n = tree.checkRemovable(pick(op.cg).id);
                if (n.parent !== null) tree.reparent(n, n.parent);
                tree.markRemoved(n);
                break;
              }
            }
          } catch (error) {
            if (!(error instanceof MemcgError)) throw error;
          }
          for (const n of tree.nodes) {
            const kids = n.children.filter((c) => !c.removed);
            const expected = n.removed ? 0 : n.localKmem + kids.reduce((s, c) => s + c.kmem.usage, 0);
            if (n.kmem.usage !== expected) return false;
            if (n.kmem.usage < 0 || n.memory.usage < 0) return false;
            if (n.kmem.usage > n.kmem.limit && n.kmem.forcedCharges === 0) return false;
          }
        }
        return tree.cost.clamps === 0;
      }),
      { numRuns: 300 },
    );
  });
});
