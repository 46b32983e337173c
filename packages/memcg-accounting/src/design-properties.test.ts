import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Accounting, GFP_ACCOUNT, GFP_ATOMIC, GFP_NOACCOUNT, GFP_NOFAIL, IN_INTERRUPT } from './accounting.js';
import { type CounterName, ROOT_CGROUP } from './cgroup-tree.js';
import { CostaAccounting } from './design-costa.js';
import { DESIGNS, createDesign } from './designs.js';
import { MemcgError, type MemcgErrorCode } from './errors.js';
import { PAGE_SIZE } from './page-allocator.js';

type Op =
  | { kind: 'create'; at: number }
  | { kind: 'attach'; task: number; at: number }
  | { kind: 'alloc'; task: number; cache: number; flags: number; cpu: number; n: number }
  | { kind: 'free'; pick: number; cpu: number }
  | { kind: 'remove'; at: number }
  | { kind: 'removeLeaf'; at: number }
  | { kind: 'limit'; at: number; pages: number }
  | { kind: 'independent'; at: number; on: boolean }
  | { kind: 'work' }
  | { kind: 'stack'; task: number }
  | { kind: 'bad'; which: number; at: number; task: number };

/**
 * Inputs from outside the model, one per class: each must be refused with this typed error
 * and leave the state exactly as it was. `d` has 2 CPUs and caches 0..3.
 */
const BAD_CALLS: readonly { readonly code: MemcgErrorCode; readonly call: (d: Accounting, cg: number, task: number, live: readonly number[]) => unknown }[] = [
  { code: 'KERNSIM_MEMCG_BAD_ARGUMENT', call: (d, _cg, task) => d.alloc(0, task, -1, 0) },
  { code: 'KERNSIM_MEMCG_BAD_ARGUMENT', call: (d, _cg, task) => d.alloc(0, task, 2, 0) },
  { code: 'KERNSIM_MEMCG_BAD_ARGUMENT', call: (d, _cg, task) => d.alloc(1, task, 1.5, 0) },
  { code: 'KERNSIM_MEMCG_BAD_ARGUMENT', call: (d, _cg, task) => d.alloc(2, task, Number.NaN, 0) },
  { code: 'KERNSIM_MEMCG_BAD_ARGUMENT', call: (d, _cg, task) => d.alloc(0, task, 0, 1 << 5) },
  { code: 'KERNSIM_MEMCG_BAD_ARGUMENT', call: (d, _cg, task) => d.alloc(0, task, 0, -1) },
  { code: 'KERNSIM_MEMCG_BAD_ARGUMENT', call: (d) => d.alloc(0, -1, 0, 0) },
  { code: 'KERNSIM_MEMCG_BAD_ARGUMENT', call: (d) => d.alloc(0, Number.NaN, 0, 0) },
  { code: 'KERNSIM_MEMCG_UNKNOWN_CACHE', call: (d, _cg, task) => d.alloc(1.5, task, 0, 0) },
  { code: 'KERNSIM_MEMCG_UNKNOWN_CACHE', call: (d, _cg, task) => d.alloc(-1, task, 0, 0) },
  { code: 'KERNSIM_MEMCG_BAD_ARGUMENT', call: (d) => d.allocStack(99, -1) },
  { code: 'KERNSIM_MEMCG_BAD_ARGUMENT', call: (d) => d.allocStack(99, 1.5) },
  { code: 'KERNSIM_MEMCG_BAD_ARGUMENT', call: (d) => d.allocStack(99, 40) },
  { code: 'KERNSIM_MEMCG_BAD_ARGUMENT', call: (d) => d.allocStack(-3, 1) },
  { code: 'KERNSIM_MEMCG_BAD_ARGUMENT', call: (d, cg) => { d.setLimit(cg, 'swap' as CounterName, PAGE_SIZE); } },
  { code: 'KERNSIM_MEMCG_BAD_ARGUMENT', call: (d, cg) => { d.setLimit(cg, 'memory', -PAGE_SIZE); } },
  { code: 'KERNSIM_MEMCG_BAD_ARGUMENT', call: (d, cg) => { d.setLimit(cg, 'memory', Number.NaN); } },
  { code: 'KERNSIM_MEMCG_BAD_ARGUMENT', call: (d, cg) => { d.setLimit(cg, 'memory', 4096.5); } },
  { code: 'KERNSIM_MEMCG_BAD_ARGUMENT', call: (d, cg) => { d.createCgroup(cg, ''); } },
  { code: 'KERNSIM_MEMCG_BAD_ARGUMENT', call: (d, cg) => { d.createCgroup(cg, 'a/b'); } },
  { code: 'KERNSIM_MEMCG_UNKNOWN_CGROUP', call: (d) => { d.createCgroup(0.5, 'x'); } },
  { code: 'KERNSIM_MEMCG_UNKNOWN_CGROUP', call: (d) => { d.removeCgroup(Number.NaN); } },
  { code: 'KERNSIM_MEMCG_BAD_ARGUMENT', call: (d, cg) => { d.attach(-1, cg); } },
  { code: 'KERNSIM_MEMCG_BAD_ARGUMENT', call: (d, cg) => { d.setKmemIndependent(cg, 1 as unknown as boolean); } },
  { code: 'KERNSIM_MEMCG_BAD_ARGUMENT', call: (d) => d.createCache({ name: 'odd', objSize: 100.5, account: true }) },
  { code: 'KERNSIM_MEMCG_BAD_ARGUMENT', call: (d) => d.createCache({ name: 'nan', objSize: Number.NaN, account: true }) },
  { code: 'KERNSIM_MEMCG_BAD_ARGUMENT', call: (d) => d.createCache({ name: '', objSize: 64, account: true }) },
  { code: 'KERNSIM_MEMCG_BAD_ARGUMENT', call: (d, _cg, _task, live) => { d.free(live[0] ?? 0, 2); } },
  { code: 'KERNSIM_MEMCG_BAD_ARGUMENT', call: (d, _cg, _task, live) => { d.free(live[0] ?? 0, -1); } },
  { code: 'KERNSIM_MEMCG_BAD_ARGUMENT', call: (d) => { d.exit(Number.NaN); } },
];

const flagsArb = fc.constantFrom(
  0,
  GFP_ACCOUNT,
  GFP_ATOMIC,
  GFP_NOACCOUNT,
  GFP_NOFAIL,
  GFP_ATOMIC | GFP_ACCOUNT,
  GFP_NOFAIL | GFP_ACCOUNT,
  IN_INTERRUPT | GFP_ATOMIC | GFP_ACCOUNT,
);

// Weighted so that most sequences build a tree, fill it and tear parts of it down again.
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('create' as const), at: fc.nat(20) }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('attach' as const), task: fc.integer({ min: 1, max: 5 }), at: fc.nat(20) }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('removeLeaf' as const), at: fc.nat(20) }), weight: 2 },
  fc.record({
    kind: fc.constant('alloc' as const),
    task: fc.integer({ min: 1, max: 5 }),
    cache: fc.nat(3),
    flags: flagsArb,
    cpu: fc.nat(1),
    n: fc.integer({ min: 1, max: 40 }),
  }),
  fc.record({ kind: fc.constant('free' as const), pick: fc.nat(1000), cpu: fc.nat(1) }),
  fc.record({ kind: fc.constant('remove' as const), at: fc.nat(20) }),
  fc.record({ kind: fc.constant('limit' as const), at: fc.nat(20), pages: fc.integer({ min: 0, max: 16 }) }),
  fc.record({ kind: fc.constant('independent' as const), at: fc.nat(20), on: fc.boolean() }),
  fc.record({ kind: fc.constant('work' as const) }),
  fc.record({ kind: fc.constant('stack' as const), task: fc.integer({ min: 1, max: 5 }) }),
  { arbitrary: fc.record({ kind: fc.constant('bad' as const), which: fc.nat(BAD_CALLS.length - 1), at: fc.nat(20), task: fc.integer({ min: 1, max: 5 }) }), weight: 2 },
);

/** Runs a call that must be refused with `code`; returns the error. */
function refused(code: MemcgErrorCode, call: () => unknown): MemcgError {
  try {
    call();
  } catch (error) {
    if (error instanceof MemcgError && error.code === code) return error;
    throw new Error(`expected ${code}`, { cause: error });
  }
  throw new Error(`expected ${code}; the call was accepted`);
}

function slabCharges(d: Accounting): number {
  let bytes = 0;
  for (const cache of d.slabs.caches) {
    if (cache.destroyed) continue;
    for (const s of d.slabs.slabsOf(cache)) if ((d.slabs.slabCharge[s] ?? -1) >= 0) bytes += cache.pagesPerSlab * PAGE_SIZE;
  }
  return bytes;
}

function checkInvariants(d: Accounting): string | null {
  for (const n of d.tree.nodes) {
    const kids = n.children.filter((c) => !c.removed);
    for (const which of ['kmem', 'memory'] as const) {
      const local = which === 'kmem' ? n.localKmem : n.localMemory;
      const expected = n.removed ? 0 : local + kids.reduce((s, c) => s + c[which].usage, 0);
      if (n[which].usage !== expected) return `${which} of ${n.name}: ${String(n[which].usage)} != ${String(expected)}`;
      if (n[which].usage < 0) return `negative ${which} usage at ${n.name}`;
      if (n[which].usage > n[which].limit && n[which].forcedCharges === 0) return `limit passed without a forced charge at ${n.name}`;
    }
  }
  if (d.tree.cost.clamps !== 0) return 'an uncharge went below zero';
  if (d.id !== 'objcg') {
    let local = 0;
    for (const n of d.tree.nodes) local += n.localKmem + n.localKmemMemoryOnly;
    const stacks = (d.snapshot() as { stacks: [number, { pages: number; charged: number }][] }).stacks;
    const stackBytes = stacks.reduce((s, [, st]) => s + (st.charged >= 0 ? st.pages * PAGE_SIZE : 0), 0);
    if (local !== slabCharges(d) + stackBytes) return `charged ${String(local)} != charged slab pages ${String(slabCharges(d))}`;
  }
  return null;
}

describe.each(DESIGNS)('%s under random operation sequences with removals', (id) => {
  it('conserves charges, never goes negative, holds limits but for forced charges; refused operations change nothing', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60, size: 'max' }), (ops) => {
        const d = createDesign(id, { pages: 2048, cpus: 2 });
        const caches = [
          d.createCache({ name: 'dentry', objSize: 192, account: true }),
          d.createCache({ name: 'inode', objSize: 600, account: true }),
          d.createCache({ name: 'kmalloc-64', objSize: 64, account: false }),
          d.createCache({ name: 'kmalloc-2048', objSize: 2048, account: false }),
        ];
        if (d instanceof CostaAccounting) {
          d.registerMemcgCache({ index: 0, cache: caches[0] ?? 0, shrink: () => 0 });
          d.registerMemcgCache({ index: 1, cache: caches[3] ?? 0, shrink: () => 0 });
        }
        const live: number[] = [];
        const stacks = new Set<number>();
        const pick = (at: number): number => {
          const nodes = d.tree.nodes.filter((n) => !n.removed);
          return (nodes[at % nodes.length] ?? nodes[0])?.id ?? ROOT_CGROUP;
        };
        for (const op of ops) {
          let before = JSON.stringify(d.snapshot());
          try {
            switch (op.kind) {
              case 'create':
                d.createCgroup(pick(op.at), 'g');
                break;
              case 'attach':
                d.attach(op.task, pick(op.at));
                break;
              case 'alloc':
                for (let i = 0; i < op.n; i++) {
                  const h = d.alloc(caches[op.cache] ?? 0, op.task, op.cpu, op.flags);
                  if (h >= 0) live.push(h);
                }
                break;
              case 'free': {
                if (live.length === 0) {
                  d.free(123456, op.cpu);
                  break;
                }
                const i = op.pick % live.length;
                d.free(live[i] ?? -1, op.cpu);
                live.splice(i, 1);
                break;
              }
              case 'remove': {
                const cg = pick(op.at);
                const node = d.tree.node(cg);
                if (node.parent !== null) for (const t of [...node.tasks]) d.attach(t, node.parent.id);
                before = JSON.stringify(d.snapshot());
                d.removeCgroup(cg);
                break;
              }
              case 'removeLeaf': {
                const leaves = d.tree.nodes.filter((n) => !n.removed && n.parent !== null && n.children.every((k) => k.removed));
                const node = leaves[op.at % Math.max(1, leaves.length)];
                if (node?.parent == null) break;
                for (const t of [...node.tasks]) d.attach(t, node.parent.id);
                before = JSON.stringify(d.snapshot());
                d.removeCgroup(node.id);
                break;
              }
              case 'limit':
                d.setLimit(pick(op.at), 'kmem', op.pages * PAGE_SIZE);
                break;
              case 'independent':
                d.setKmemIndependent(pick(op.at), op.on);
                break;
              case 'work':
                d.runWork();
                break;
              case 'bad': {
                const bad = BAD_CALLS[op.which];
                if (bad === undefined) break;
                refused(bad.code, () => bad.call(d, pick(op.at), op.task, live));
                if (JSON.stringify(d.snapshot()) !== before) throw new Error(`refused call ${String(op.which)} changed the state`);
                break;
              }
              case 'stack':
                if (stacks.has(op.task)) {
                  d.freeStack(op.task);
                  stacks.delete(op.task);
                } else if (d.allocStack(op.task, 1)) stacks.add(op.task);
                break;
            }
          } catch (error) {
            if (!(error instanceof MemcgError)) throw error;
            if (JSON.stringify(d.snapshot()) !== before) throw new Error(`${error.code} changed the state`, { cause: error });
          }
          const broken = checkInvariants(d);
          if (broken !== null) throw new Error(`${op.kind}: ${broken}`);
        }
        for (const h of live) d.free(h, 0);
        for (const t of stacks) d.freeStack(t);
        // kmem_cache_shrink everywhere: every slab page goes back, so must every page charge.
        for (const cache of d.slabs.caches) if (!cache.destroyed) d.slabs.shrink(cache);
        expect(checkInvariants(d)).toBeNull();
        if (d.id !== 'objcg') {
          for (const n of d.tree.nodes) expect(n.kmem.usage).toBe(0);
        }
      }),
      { numRuns: 200 },
    );
  });
});
