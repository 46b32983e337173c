import {
  Accounting,
  GFP_ACCOUNT,
  GFP_ATOMIC,
  GFP_NOACCOUNT,
  GFP_NOFAIL,
  IN_INTERRUPT,
  type DesignId,
  type MachineConfig,
} from './accounting.js';
import { type Cgroup, type KmemRoute, ROOT_CGROUP } from './cgroup-tree.js';
import { MemcgError } from './errors.js';
import type { KmemCache } from './kmem-cache.js';
import { PAGE_SIZE } from './page-allocator.js';

/** Bytes of per-object metadata (the obj_cgroup pointer in the slab's obj_exts vector). */
export const OBJ_EXT_BYTES = 8;

/**
 * Today's design (obj_cgroup, Linux 5.9 onwards): caches are shared; every accounted
 * object points to an obj_cgroup and is charged in bytes; a per-CPU stock keeps the
 * sub-page remainder so the page counters move a page at a time. On removal the
 * cgroup's obj_cgroups are re-pointed at the parent (memcg_reparent_objcgs), so live
 * objects pin a small obj_cgroup rather than the whole memory cgroup.
 */
export class ObjcgAccounting extends Accounting {
  readonly id: DesignId = 'objcg';
  private readonly objcgMemcg: number[] = [];
  private readonly objcgLive: number[] = [];
  private readonly objcgBytes: number[] = [];
  private readonly objcgDead: boolean[] = [];
  private readonly cgObjcg: number[] = [];
  private readonly objcgsOf: number[][] = [];
  private readonly stockObjcg: Int32Array;
  private readonly stockBytes: Float64Array;
  /** Caches that have held an accounted object: their slabs carry obj_exts vectors. */
  private readonly extsCaches: boolean[] = [];
  /** memcg_kmem_online_key: enabled when the first non-root cgroup comes online, never disabled. */
  private kmemOnline = false;

  constructor(config: MachineConfig) {
    super(config, 'slub');
    this.stockObjcg = new Int32Array(config.cpus).fill(-1);
    this.stockBytes = new Float64Array(config.cpus);
    this.onCgroupCreated(ROOT_CGROUP);
  }

  protected override slabOwner(): number {
    return -1;
  }

  /** Since 3.8 kernel memory is always charged to the memory counter too; no kernel has had the switch since. */
  protected override kmemRoute(): KmemRoute {
    return 'both';
  }

  /** memory.independent_kmem_limit does not exist after 3.8: refused (typed error), nothing changes. */
  override setKmemIndependent(cgroup: number, independent: boolean): void {
    this.tree.get(cgroup);
    throw new MemcgError(
      'KERNSIM_MEMCG_BAD_ARGUMENT',
      `expected no independent_kmem_limit in today's design (kmem is always charged to memory too since 3.8); got ${String(independent)}`,
    );
  }

  protected override onCgroupCreated(cgroup: number): void {
    if (cgroup !== ROOT_CGROUP) this.kmemOnline = true;
    const objcg = this.objcgMemcg.length;
    this.objcgMemcg.push(cgroup);
    this.objcgLive.push(0);
    this.objcgBytes.push(0);
    this.objcgDead.push(false);
    this.cgObjcg[cgroup] = objcg;
    this.objcgsOf[cgroup] = [objcg];
  }

  /** obj_cgroup objects still alive after their cgroup was removed. */
  deadObjcgsAlive(): number {
    let n = 0;
    for (let o = 0; o < this.objcgDead.length; o++) if (this.objcgDead[o] === true && (this.objcgLive[o] ?? 0) > 0) n++;
    return n;
  }

  /** Bytes of obj_exts vectors carried by the slabs of caches that have held accounted objects. */
  metadataBytes(): number {
    let bytes = 0;
    for (const c of this.slabs.caches) if (this.extsCaches[c.id] === true) bytes += c.nrSlabs * c.objsPerSlab * OBJ_EXT_BYTES;
    return bytes;
  }

  private chargePages(objcg: number, bytes: number, force: boolean): boolean {
    const node = this.tree.node(this.objcgMemcg[objcg] ?? ROOT_CGROUP);
    if (this.tree.chargeKmem(node, bytes, false, 'both') < 0) return true;
    if (!force) return false;
    // try_charge_memcg lets __GFP_NOFAIL and __GFP_HIGH (atomic) charges through over the limit.
    this.tree.chargeKmem(node, bytes, true, 'both');
    return true;
  }

  private unchargePages(objcg: number, pages: number): void {
    if (pages > 0) this.tree.uncharge(this.tree.node(this.objcgMemcg[objcg] ?? ROOT_CGROUP), pages * PAGE_SIZE, 'both');
  }

  private drainStock(cpu: number): void {
    const old = this.stockObjcg[cpu] ?? -1;
    if (old < 0) return;
    const bytes = this.stockBytes[cpu] ?? 0;
    const pages = Math.floor(bytes / PAGE_SIZE);
    this.unchargePages(old, pages);
    this.objcgBytes[old] = (this.objcgBytes[old] ?? 0) + (bytes - pages * PAGE_SIZE);
    this.stockObjcg[cpu] = -1;
    this.stockBytes[cpu] = 0;
    this.ops += 2;
  }

  /** refill_obj_stock: give bytes back to the per-CPU stock; whole pages beyond one go back to the counter. */
  private refillStock(objcg: number, bytes: number, cpu: number): void {
    this.ops++;
    if (this.stockObjcg[cpu] !== objcg) {
      this.drainStock(cpu);
      this.stockObjcg[cpu] = objcg;
      this.stockBytes[cpu] = this.objcgBytes[objcg] ?? 0;
      this.objcgBytes[objcg] = 0;
    }
    let stock = (this.stockBytes[cpu] ?? 0) + bytes;
    if (stock > PAGE_SIZE) {
      const pages = Math.floor(stock / PAGE_SIZE);
      this.unchargePages(objcg, pages);
      stock -= pages * PAGE_SIZE;
    }
    this.stockBytes[cpu] = stock;
  }

  /** obj_cgroup_charge: from the stock when it holds enough, else whole pages and the rest to the stock. */
  private chargeObject(objcg: number, size: number, cpu: number, force: boolean): boolean {
    this.ops++;
    const stock = this.stockBytes[cpu] ?? 0;
    if (this.stockObjcg[cpu] === objcg && stock >= size) {
      this.stockBytes[cpu] = stock - size;
      return true;
    }
    const pages = Math.ceil(size / PAGE_SIZE);
    if (!this.chargePages(objcg, pages * PAGE_SIZE, force)) return false;
    const rest = pages * PAGE_SIZE - size;
    if (rest > 0) this.refillStock(objcg, rest, cpu);
    return true;
  }

  protected allocate(root: KmemCache, task: number, cpu: number, flags: number): number {
    if (!this.kmemOnline) {
      const h = this.slabs.alloc(root, cpu, ROOT_CGROUP);
      if (h >= 0) this.slabs.objTag[h] = -1;
      return h;
    }
    this.ops++;
    const accounted = (root.spec.account || (flags & GFP_ACCOUNT) !== 0) && (flags & GFP_NOACCOUNT) === 0;
    const cg = this.tree.cgroupOf(task);
    // current_obj_cgroup() finds no obj_cgroup in interrupt context (no int_active_memcg here).
    const interrupt = (flags & IN_INTERRUPT) !== 0;
    if (!accounted || cg === ROOT_CGROUP || interrupt) {
      const h = this.slabs.alloc(root, cpu, cg);
      if (h >= 0) {
        this.slabs.objTag[h] = -1;
        if (!accounted && !interrupt && cg !== ROOT_CGROUP) this.stats.escapedBytes += root.objSize;
      }
      return h;
    }
    this.ops++;
    const objcg = this.cgObjcg[cg] ?? 0;
    const force = (flags & (GFP_ATOMIC | GFP_NOFAIL)) !== 0;
    if (!this.chargeObject(objcg, root.objSize, cpu, force)) {
      if ((flags & GFP_ATOMIC) !== 0 || !this.reclaim(cg) || !this.chargeObject(objcg, root.objSize, cpu, force)) {
        this.slabs.lastFailure = 'charge';
        return -1;
      }
    }
    const h = this.slabs.alloc(root, cpu, cg);
    if (h < 0) {
      this.refillStock(objcg, root.objSize, cpu);
      return -1;
    }
    this.slabs.objTag[h] = objcg;
    this.extsCaches[root.id] = true;
    this.objcgLive[objcg] = (this.objcgLive[objcg] ?? 0) + 1;
    this.ops++;
    return h;
  }

  /** try_charge's reclaim: shrink_slab runs every memcg-aware shrinker for the cgroup. */
  private reclaim(cg: number): boolean {
    let any = false;
    for (const index of this.shrinkers.keys()) if (this.runShrinker(index, cg)) any = true;
    return any;
  }

  protected release(handle: number, cpu: number): void {
    if (!this.kmemOnline) {
      this.slabs.free(handle, cpu);
      return;
    }
    this.ops++;
    const objcg = this.slabs.objTag[handle] ?? -1;
    const size = this.slabs.cacheOf(handle).objSize;
    this.slabs.free(handle, cpu);
    if (objcg < 0) return;
    this.refillStock(objcg, size, cpu);
    this.putObjcg(objcg);
  }

  private putObjcg(objcg: number): void {
    const live = (this.objcgLive[objcg] ?? 1) - 1;
    this.objcgLive[objcg] = live;
    if (live === 0 && this.objcgDead[objcg] === true) this.releaseObjcg(objcg);
  }

  /** obj_cgroup_release: the last reference is gone; the whole pages it still holds are uncharged. */
  private releaseObjcg(objcg: number): void {
    for (let cpu = 0; cpu < this.config.cpus; cpu++) if (this.stockObjcg[cpu] === objcg) this.drainStock(cpu);
    const bytes = this.objcgBytes[objcg] ?? 0;
    const pages = Math.floor(bytes / PAGE_SIZE);
    this.unchargePages(objcg, pages);
    this.objcgBytes[objcg] = bytes - pages * PAGE_SIZE;
  }

  protected override chargeStack(cgroup: number, pages: number): number {
    if (cgroup === ROOT_CGROUP) return -1;
    const failed = this.tree.chargeKmem(this.tree.node(cgroup), pages * PAGE_SIZE, false, 'both');
    return failed >= 0 ? -2 : cgroup;
  }

  /** memcg_reparent_objcgs: the cgroup's obj_cgroups now point at the parent, which keeps the charges. */
  protected removeCharges(node: Cgroup): Cgroup {
    const parent = node.parent ?? node;
    const mine = this.objcgsOf[node.id] ?? [];
    for (const o of mine) this.objcgMemcg[o] = parent.id;
    (this.objcgsOf[parent.id] ?? []).push(...mine);
    this.objcgsOf[node.id] = [];
    const active = this.cgObjcg[node.id] ?? -1;
    if (active >= 0) this.objcgDead[active] = true;
    return parent;
  }

  protected override afterRemoval(node: Cgroup): void {
    const active = this.cgObjcg[node.id] ?? -1;
    if (active >= 0 && (this.objcgLive[active] ?? 0) === 0) this.releaseObjcg(active);
  }
}
