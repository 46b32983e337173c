import { Prng } from '@kernsim/prng';
import { type Accounting, GFP_ACCOUNT, GFP_ATOMIC, GFP_KERNEL, IN_INTERRUPT, MAX_STACK_ORDER } from './accounting.js';
import { CostaAccounting } from './design-costa.js';
import { ObjcgAccounting } from './design-objcg.js';
import { MemcgError } from './errors.js';
import type { CacheSpec } from './kmem-cache.js';
import { PAGE_SIZE } from './page-allocator.js';
import { checkInt } from './validate.js';

export const KMALLOC_SIZES: readonly number[] = [8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192];
/** Names longer than this need an external name buffer from kmalloc (DNAME_INLINE_LEN). */
const DNAME_INLINE_LEN = 32;
/** The longest path component (NAME_MAX). */
const NAME_MAX = 255;

/** A first-in-first-out queue of handles that allocates only when it grows. */
class HandleQueue {
  private items: number[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(h: number): void {
    this.items.push(h);
  }

  shift(): number {
    const h = this.items[this.head] ?? -1;
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return h;
  }

  drainInto(other: HandleQueue): void {
    for (let i = this.head; i < this.items.length; i++) other.push(this.items[i] ?? -1);
    this.items = [];
    this.head = 0;
  }
}

export interface KernelOptions {
  /** Kernel stack order: 1 (8 KiB, x86_64 in 2012) or 2 (16 KiB today). */
  readonly stackOrder?: number;
  /** Extra caches for workloads that touch many of them. */
  readonly miscCaches?: number;
  /** Named caches beyond the dcache, kmalloc and skbuff ones (the host workloads' task, file and socket caches). */
  readonly namedCaches?: readonly CacheSpec[];
}

/**
 * The kernel's users of slab memory on top of an accounting design: the dentry cache with
 * per-cgroup LRUs and a shrinker, the inode cache, kmalloc size classes, task stacks and
 * socket buffers allocated in atomic context.
 */
export class Kernel {
  readonly dentry: number;
  readonly inode: number;
  readonly kmalloc: readonly number[];
  readonly skbuffHead: number;
  readonly misc: readonly number[];
  /** Index of each cache created from `namedCaches`, by name. */
  readonly named: ReadonlyMap<string, number>;
  readonly stackOrder: number;
  private readonly lru = new Map<number, HandleQueue>();
  /** dentry handle -> inode handle and external-name handle (-1 when inline). */
  private readonly inodeOf = new Map<number, number>();
  private readonly nameOf = new Map<number, number>();
  /** Dentries of live cgroups evicted by global reclaim (the neighbour's suffering). */
  globalEvictions = new Map<number, number>();

  constructor(
    readonly design: Accounting,
    options: KernelOptions = {},
  ) {
    this.stackOrder = checkInt(options.stackOrder ?? (design.id === 'objcg' ? 2 : 1), 'a stack order', 0, MAX_STACK_ORDER);
    checkInt(options.miscCaches ?? 0, 'a number of extra caches', 0, 1000);
    this.dentry = design.createCache({ name: 'dentry', objSize: 192, account: true });
    this.inode = design.createCache({ name: 'inode_cache', objSize: 600, account: true });
    this.kmalloc = KMALLOC_SIZES.map((size) => design.createCache({ name: `kmalloc-${String(size)}`, objSize: size, account: false }));
    this.skbuffHead = design.createCache({ name: 'skbuff_head_cache', objSize: 256, account: false });
    const misc: number[] = [];
    for (let i = 0; i < (options.miscCaches ?? 0); i++) {
      misc.push(design.createCache({ name: `misc-${String(i)}`, objSize: 48 + ((i * 88) % 900), account: true }));
    }
    this.misc = misc;
    const named = new Map<string, number>();
    for (const spec of options.namedCaches ?? []) {
      if (named.has(spec.name)) throw new MemcgError('KERNSIM_MEMCG_BAD_ARGUMENT', `expected unique cache names; got ${JSON.stringify(spec.name)} twice`);
      named.set(spec.name, design.createCache(spec));
    }
    this.named = named;
    const shrink = (cg: number, n: number): number => this.shrinkDcache(cg, n);
    if (design instanceof CostaAccounting) design.registerMemcgCache({ index: 0, cache: this.dentry, shrink });
    if (design instanceof ObjcgAccounting) design.registerShrinker(this.dentry, shrink);
    design.globalReclaim = (cg, n) => this.shrinkDcache(cg, n, true);
    design.onReparent = (from, to) => {
      const q = this.lru.get(from);
      if (q === undefined) return;
      q.drainInto(this.queue(to));
      this.lru.delete(from);
    };
  }

  private queue(cg: number): HandleQueue {
    let q = this.lru.get(cg);
    if (q === undefined) {
      q = new HandleQueue();
      this.lru.set(cg, q);
    }
    return q;
  }

  /** kmalloc: the smallest size class that fits. */
  kmallocIndex(size: number): number {
    // Larger requests go to the page allocator in the kernel; the model has no path for them.
    checkInt(size, 'a kmalloc size in bytes', 1, KMALLOC_SIZES[KMALLOC_SIZES.length - 1] ?? PAGE_SIZE);
    const i = KMALLOC_SIZES.findIndex((s) => s >= size);
    return this.kmalloc[i] ?? 0;
  }

  /**
   * d_alloc + iget for one path component; the dentry ends unused on its cgroup's LRU (a walk
   * does not keep what it looked up). Returns false when an allocation failed.
   */
  lookup(task: number, cpu: number, nameLen: number): boolean {
    checkInt(nameLen, 'a name length', 1, NAME_MAX);
    const d = this.design.alloc(this.dentry, task, cpu, GFP_KERNEL);
    if (d < 0) return false;
    let name = -1;
    if (nameLen > DNAME_INLINE_LEN) {
      name = this.design.alloc(this.kmallocIndex(nameLen + 1), task, cpu, GFP_ACCOUNT);
      if (name < 0) {
        this.design.free(d, cpu);
        return false;
      }
    }
    const ino = this.design.alloc(this.inode, task, cpu, GFP_KERNEL);
    if (ino < 0) {
      if (name >= 0) this.design.free(name, cpu);
      this.design.free(d, cpu);
      return false;
    }
    this.inodeOf.set(d, ino);
    if (name >= 0) this.nameOf.set(d, name);
    this.queue(this.design.tree.cgroupOf(task)).push(d);
    return true;
  }

  private dropDentry(d: number, cpu: number): void {
    const ino = this.inodeOf.get(d) ?? -1;
    const name = this.nameOf.get(d) ?? -1;
    this.inodeOf.delete(d);
    this.nameOf.delete(d);
    if (name >= 0) this.design.free(name, cpu);
    if (ino >= 0) this.design.free(ino, cpu);
    this.design.free(d, cpu);
  }

  /** The dcache shrinker: frees the oldest unused dentries of `cg` (-1: of every cgroup, in turn). */
  shrinkDcache(cg: number, nrToScan: number, global = false): number {
    checkInt(nrToScan, 'a number of objects to scan', 0);
    if (cg !== -1) this.design.tree.node(cg);
    let freed = 0;
    if (cg >= 0) {
      const q = this.lru.get(cg);
      while (q !== undefined && q.length > 0 && freed < nrToScan) {
        this.dropDentry(q.shift(), 0);
        freed++;
      }
      return freed;
    }
    // Global reclaim goes first after cgroups above their soft limit, as 2012's soft-limit reclaim did.
    const tree = this.design.tree;
    const over = (cg: number): boolean => {
      const node = tree.node(cg);
      return !node.removed && (node.kmem.usage > node.kmem.softLimit || node.memory.usage > node.memory.softLimit);
    };
    const all = [...this.lru.entries()].filter(([, q]) => q.length > 0);
    const overSoft = all.filter(([cg]) => over(cg));
    freed += this.shrinkRoundRobin(overSoft, nrToScan, global);
    freed += this.shrinkRoundRobin(all, nrToScan - freed, global);
    return freed;
  }

  private shrinkRoundRobin(queues: [number, HandleQueue][], nrToScan: number, global: boolean): number {
    let freed = 0;
    while (freed < nrToScan && queues.length > 0) {
      for (let i = queues.length - 1; i >= 0 && freed < nrToScan; i--) {
        const entry = queues[i];
        if (entry === undefined) continue;
        const [owner, q] = entry;
        if (q.length === 0) {
          queues.splice(i, 1);
          continue;
        }
        this.dropDentry(q.shift(), 0);
        if (global) this.globalEvictions.set(owner, (this.globalEvictions.get(owner) ?? 0) + 1);
        freed++;
      }
    }
    return freed;
  }

  /**
   * A `find`-style walk: `count` lookups with names of random length, every dentry left
   * unused on the LRU. Returns the number of lookups that failed.
   */
  walk(task: number, cpu: number, count: number, prng: Prng): number {
    checkInt(count, 'a number of lookups', 0);
    if (!(prng instanceof Prng)) throw new MemcgError('KERNSIM_MEMCG_BAD_ARGUMENT', 'expected a Prng for the walk');
    let failed = 0;
    for (let i = 0; i < count; i++) if (!this.lookup(task, cpu, 8 + prng.int(56))) failed++;
    return failed;
  }

  cachedDentries(cg: number): number {
    return this.lru.get(cg)?.length ?? 0;
  }

  /** Unused dentries cached on every LRU. */
  cachedTotal(): number {
    let n = 0;
    for (const q of this.lru.values()) n += q.length;
    return n;
  }

  /** fork: the new task's kernel stack. */
  fork(task: number): boolean {
    return this.design.allocStack(task, this.stackOrder);
  }

  exit(task: number): void {
    this.design.freeStack(task);
  }

  /**
   * A socket buffer allocated in atomic context: the sk_buff head and its data. `softirq`
   * is the receive path (interrupt context, charged to nobody); otherwise a task holding a
   * spinlock (process context, GFP_ATOMIC). Returns [head, data] or null.
   */
  skbAlloc(task: number, cpu: number, size: number, softirq = false): readonly [number, number] | null {
    const dataCache = this.kmallocIndex(size);
    const flags = GFP_ATOMIC | GFP_ACCOUNT | (softirq ? IN_INTERRUPT : 0);
    const head = this.design.alloc(this.skbuffHead, task, cpu, flags);
    if (head < 0) return null;
    const data = this.design.alloc(dataCache, task, cpu, flags);
    if (data < 0) {
      this.design.free(head, cpu);
      return null;
    }
    return [head, data];
  }
}
