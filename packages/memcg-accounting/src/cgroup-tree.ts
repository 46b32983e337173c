import { MemcgError } from './errors.js';
import {
  type ResCounter,
  newResCounter,
  resCounterCharge,
  resCounterChargeNofail,
  resCounterUnchargeUntil,
} from './res-counter.js';
import { checkBoolean, checkChoice, checkInt, checkLimitBytes, checkName } from './validate.js';

/** Task ids are pids: integers from 0 to 2^31 - 1 (pid_t). */
export const MAX_TASK = 0x7fffffff;

export function checkTask(task: unknown): number {
  return checkInt(task, 'a task id', 0, MAX_TASK);
}

export const ROOT_CGROUP = 0;

export type CounterName = 'memory' | 'kmem';

/** The counters that take the names of `CounterName`, for validating names from outside. */
export const COUNTER_NAMES: readonly CounterName[] = ['memory', 'kmem'];

/**
 * Which counters a kernel-memory charge goes to. 'both': the kmem counter and the memory
 * counter (Souhlal's sets without an independent limit, and every kernel since 3.8); 'kmem':
 * the kmem counter only (an independent kmem limit); 'memory': the memory counter only
 * (Costa's February 2012 set without an independent limit: `memcg_kmem()` picks `memcg->res`).
 */
export type KmemRoute = 'both' | 'kmem' | 'memory';
const KMEM_ROUTES: readonly KmemRoute[] = ['both', 'kmem', 'memory'];

export interface Cgroup {
  readonly id: number;
  readonly name: string;
  readonly parent: Cgroup | null;
  readonly children: Cgroup[];
  readonly tasks: Set<number>;
  readonly memory: ResCounter;
  readonly kmem: ResCounter;
  /** memory.kmem.independent_kmem_limit: when false, kmem is charged to `memory` too. */
  kmemIndependent: boolean;
  /** Bytes charged at this level (not inherited from children), per counter. */
  localMemory: number;
  localKmem: number;
  /**
   * The part of localKmem that was charged to the memory counter as well. Kept per charge
   * rather than read from kmemIndependent at uncharge time, because charges inherited from a
   * removed child may have been made under the child's setting.
   */
  localKmemInMemory: number;
  /** The part of localKmemInMemory charged to the memory counter only (route 'memory'). */
  localKmemMemoryOnly: number;
  removed: boolean;
  /** References that keep a removed cgroup's structure alive (dead caches, pages). */
  pins: number;
}

/** A cgroup operation, applied by `CgroupTree.apply` (validated first: a throw changes nothing). */
export type CgroupOp =
  | { readonly type: 'create'; readonly parent: number; readonly name: string }
  | { readonly type: 'attach'; readonly task: number; readonly cgroup: number }
  | { readonly type: 'exit'; readonly task: number }
  | { readonly type: 'setLimit'; readonly cgroup: number; readonly counter: CounterName; readonly bytes: number }
  | { readonly type: 'setSoftLimit'; readonly cgroup: number; readonly counter: CounterName; readonly bytes: number }
  | { readonly type: 'setKmemIndependent'; readonly cgroup: number; readonly independent: boolean };

/** Where a charge failed: the cgroup whose counter refused, or -1. */
export interface ChargeCost {
  ops: number;
  clamps: number;
}

export interface CgroupSnapshot {
  readonly id: number;
  readonly name: string;
  readonly parent: number;
  readonly removed: boolean;
  readonly pins: number;
  readonly tasks: readonly number[];
  readonly kmemIndependent: boolean;
  readonly localMemory: number;
  readonly localKmem: number;
  readonly localKmemInMemory: number;
  readonly localKmemMemoryOnly: number;
  readonly memory: Omit<ResCounter, 'parent'>;
  readonly kmem: Omit<ResCounter, 'parent'>;
}

function counterView(c: ResCounter): Omit<ResCounter, 'parent'> {
  return {
    usage: c.usage,
    limit: c.limit,
    maxUsage: c.maxUsage,
    failcnt: c.failcnt,
    softLimit: c.softLimit,
    forcedCharges: c.forcedCharges,
  };
}

/** The control-group hierarchy with two res_counters per group (user memory and kmem). */
export class CgroupTree {
  readonly nodes: Cgroup[] = [];
  private readonly taskCgroup = new Map<number, number>();
  readonly cost: ChargeCost = { ops: 0, clamps: 0 };

  constructor() {
    this.nodes.push(this.makeNode('/', null));
  }

  private makeNode(name: string, parent: Cgroup | null): Cgroup {
    return {
      id: this.nodes.length,
      name,
      parent,
      children: [],
      tasks: new Set(),
      memory: newResCounter(parent === null ? null : parent.memory),
      kmem: newResCounter(parent === null ? null : parent.kmem),
      kmemIndependent: false,
      localMemory: 0,
      localKmem: 0,
      localKmemInMemory: 0,
      localKmemMemoryOnly: 0,
      removed: false,
      pins: 0,
    };
  }

  /** A live cgroup, or a typed error. */
  get(id: number): Cgroup {
    const node = Number.isInteger(id) ? this.nodes[id] : undefined;
    if (node === undefined) {
      throw new MemcgError('KERNSIM_MEMCG_UNKNOWN_CGROUP', `expected an existing cgroup id; got ${String(id)}`);
    }
    if (node.removed) {
      throw new MemcgError('KERNSIM_MEMCG_CGROUP_REMOVED', `expected a live cgroup; cgroup ${node.name} was removed`);
    }
    return node;
  }

  /** Any cgroup ever created, removed ones included. */
  node(id: number): Cgroup {
    const node = Number.isInteger(id) ? this.nodes[id] : undefined;
    if (node === undefined) {
      throw new MemcgError('KERNSIM_MEMCG_UNKNOWN_CGROUP', `expected an existing cgroup id; got ${String(id)}`);
    }
    return node;
  }

  cgroupOf(task: number): number {
    return this.taskCgroup.get(task) ?? ROOT_CGROUP;
  }

  liveCount(): number {
    let n = 0;
    for (const node of this.nodes) if (!node.removed) n++;
    return n;
  }

  apply(op: CgroupOp): number {
    switch (op.type) {
      case 'create': {
        const parent = this.get(op.parent);
        const node = this.makeNode(checkName(op.name, 'a cgroup name'), parent);
        this.nodes.push(node);
        parent.children.push(node);
        return node.id;
      }
      case 'attach': {
        const target = this.get(op.cgroup);
        checkTask(op.task);
        const from = this.taskCgroup.get(op.task);
        if (from !== undefined) this.node(from).tasks.delete(op.task);
        target.tasks.add(op.task);
        this.taskCgroup.set(op.task, target.id);
        return target.id;
      }
      case 'exit': {
        checkTask(op.task);
        const from = this.taskCgroup.get(op.task);
        if (from === undefined) {
          throw new MemcgError('KERNSIM_MEMCG_UNKNOWN_TASK', `expected a running task; task ${String(op.task)} is unknown`);
        }
        this.node(from).tasks.delete(op.task);
        this.taskCgroup.delete(op.task);
        return from;
      }
      case 'setLimit': {
        const node = this.get(op.cgroup);
        const counter = node[checkChoice(op.counter, 'a counter name', COUNTER_NAMES)];
        const bytes = checkLimitBytes(op.bytes, 'a limit');
        if (counter.usage > bytes) {
          // res_counter_set_limit returns -EBUSY rather than shrinking usage.
          throw new MemcgError(
            'KERNSIM_MEMCG_LIMIT_BELOW_USAGE',
            `expected a ${op.counter} limit of at least the usage ${String(counter.usage)} bytes of ${node.name}; got ${String(bytes)}`,
          );
        }
        counter.limit = bytes;
        return node.id;
      }
      case 'setSoftLimit': {
        const node = this.get(op.cgroup);
        const counter = node[checkChoice(op.counter, 'a counter name', COUNTER_NAMES)];
        counter.softLimit = checkLimitBytes(op.bytes, 'a soft limit');
        return node.id;
      }
      case 'setKmemIndependent': {
        const node = this.get(op.cgroup);
        const independent = checkBoolean(op.independent, 'independent_kmem_limit');
        if (this.kernelCharged(node) !== 0) {
          throw new MemcgError(
            'KERNSIM_MEMCG_BAD_ARGUMENT',
            `expected no kernel memory charged before switching independent_kmem_limit; ${node.name} has ${String(this.kernelCharged(node))} bytes`,
          );
        }
        node.kmemIndependent = independent;
        return node.id;
      }
      default:
        throw new MemcgError('KERNSIM_MEMCG_BAD_ARGUMENT', `expected a cgroup operation type; got ${String((op as { type?: unknown }).type)}`);
    }
  }

  /** Throws unless `id` may be removed (the checks rmdir makes); changes nothing. */
  checkRemovable(id: number): Cgroup {
    const node = this.get(id);
    if (node.parent === null) {
      throw new MemcgError('KERNSIM_MEMCG_ROOT_IMMUTABLE', 'expected a non-root cgroup; the root cannot be removed');
    }
    if (node.tasks.size > 0) {
      throw new MemcgError('KERNSIM_MEMCG_CGROUP_HAS_TASKS', `expected an empty cgroup; ${node.name} has ${String(node.tasks.size)} task(s)`);
    }
    if (node.children.some((c) => !c.removed)) {
      throw new MemcgError('KERNSIM_MEMCG_CGROUP_HAS_CHILDREN', `expected a cgroup without children; ${node.name} has some`);
    }
    return node;
  }

  /**
   * Charges kernel memory to `node` along `route` (see KmemRoute). A forced charge goes in
   * over any limit (res_counter_charge_nofail). Returns the cgroup whose counter refused, or -1.
   */
  chargeKmem(node: Cgroup, bytes: number, force: boolean, route: KmemRoute): number {
    this.checkCharge(node, bytes, route);
    const toKmem = route !== 'memory';
    const toMemory = route !== 'kmem';
    if (force) {
      if (toKmem) resCounterChargeNofail(node.kmem, bytes, this.cost);
      if (toMemory) resCounterChargeNofail(node.memory, bytes, this.cost);
    } else {
      if (toKmem) {
        const failed = resCounterCharge(node.kmem, bytes, this.cost);
        if (failed !== null) return this.ownerOf(failed, 'kmem');
      }
      if (toMemory) {
        const failed = resCounterCharge(node.memory, bytes, this.cost);
        if (failed !== null) {
          if (toKmem) resCounterUnchargeUntil(node.kmem, null, bytes, this.cost);
          return this.ownerOf(failed, 'memory');
        }
      }
    }
    if (toKmem) node.localKmem += bytes;
    if (toMemory) {
      node.localMemory += bytes;
      node.localKmemInMemory += bytes;
    }
    if (!toKmem) node.localKmemMemoryOnly += bytes;
    return -1;
  }

  /** Gives back a kernel-memory charge made along `route` (the route of the cgroup that made it). */
  uncharge(node: Cgroup, bytes: number, route: KmemRoute): void {
    this.checkCharge(node, bytes, route);
    if (route !== 'memory') {
      resCounterUnchargeUntil(node.kmem, null, bytes, this.cost);
      node.localKmem = Math.max(0, node.localKmem - bytes);
    }
    if (route !== 'kmem') {
      resCounterUnchargeUntil(node.memory, null, bytes, this.cost);
      node.localMemory = Math.max(0, node.localMemory - bytes);
      node.localKmemInMemory = Math.max(0, node.localKmemInMemory - bytes);
    }
    if (route === 'memory') node.localKmemMemoryOnly = Math.max(0, node.localKmemMemoryOnly - bytes);
  }

  /** A charge names a cgroup of this tree, a whole number of bytes and a route. */
  private checkCharge(node: Cgroup, bytes: number, route: KmemRoute): void {
    if (this.nodes[node.id] !== node) {
      throw new MemcgError('KERNSIM_MEMCG_UNKNOWN_CGROUP', `expected a cgroup of this tree; got ${node.name}`);
    }
    checkInt(bytes, 'a charge in bytes', 0);
    if (!KMEM_ROUTES.includes(route)) checkChoice(route, 'a charge route', KMEM_ROUTES);
  }

  /** Kernel memory charged to `node` and its live descendants, whichever counter holds it. */
  kernelCharged(node: Cgroup): number {
    let bytes = node.localKmem + node.localKmemMemoryOnly;
    for (const child of node.children) if (!child.removed) bytes += this.kernelCharged(child);
    return bytes;
  }

  /** Charges user memory (page cache, anonymous pages) to the memory counter only. */
  chargeUser(node: Cgroup, bytes: number): number {
    this.checkCharge(node, bytes, 'memory');
    const failed = resCounterCharge(node.memory, bytes, this.cost);
    if (failed !== null) return this.ownerOf(failed, 'memory');
    node.localMemory += bytes;
    return -1;
  }

  unchargeUser(node: Cgroup, bytes: number): void {
    this.checkCharge(node, bytes, 'memory');
    resCounterUnchargeUntil(node.memory, null, bytes, this.cost);
    node.localMemory = Math.max(0, node.localMemory - bytes);
  }

  /**
   * Moves every charge held at `from` to its ancestor `to`: the levels between keep nothing
   * (res_counter_uncharge_until), `to` and above keep what they had.
   */
  reparent(from: Cgroup, to: Cgroup): void {
    const kmem = from.localKmem;
    const memory = from.localMemory;
    resCounterUnchargeUntil(from.kmem, to.kmem, kmem, this.cost);
    resCounterUnchargeUntil(from.memory, to.memory, memory, this.cost);
    to.localKmem += kmem;
    to.localMemory += memory;
    to.localKmemInMemory += from.localKmemInMemory;
    to.localKmemMemoryOnly += from.localKmemMemoryOnly;
    from.localKmemMemoryOnly = 0;
    from.localKmem = 0;
    from.localMemory = 0;
    from.localKmemInMemory = 0;
  }

  /** Marks a cgroup removed; the design has moved its charges before this. */
  markRemoved(node: Cgroup): void {
    node.removed = true;
    const parent = node.parent;
    if (parent !== null) {
      const i = parent.children.indexOf(node);
      if (i >= 0) parent.children.splice(i, 1);
    }
  }

  private ownerOf(counter: ResCounter, which: CounterName): number {
    for (const node of this.nodes) if (node[which] === counter) return node.id;
    return -1;
  }

  snapshot(): readonly CgroupSnapshot[] {
    return this.nodes.map((n) => ({
      id: n.id,
      name: n.name,
      parent: n.parent === null ? -1 : n.parent.id,
      removed: n.removed,
      pins: n.pins,
      tasks: [...n.tasks].sort((a, b) => a - b),
      kmemIndependent: n.kmemIndependent,
      localMemory: n.localMemory,
      localKmem: n.localKmem,
      localKmemInMemory: n.localKmemInMemory,
      localKmemMemoryOnly: n.localKmemMemoryOnly,
      memory: counterView(n.memory),
      kmem: counterView(n.kmem),
    }));
  }
}
