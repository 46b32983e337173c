import { Accounting, type DesignId, type MachineConfig } from './accounting.js';
import type { Cgroup } from './cgroup-tree.js';
import type { AllocatorKind, KmemCache } from './kmem-cache.js';

/** No kernel-memory accounting at all: the baseline every design is measured against. */
export class NoAccounting extends Accounting {
  readonly id: DesignId = 'off';

  constructor(config: MachineConfig, kind: AllocatorKind = 'slub') {
    super(config, kind);
  }

  protected allocate(root: KmemCache, task: number, cpu: number): number {
    return this.slabs.alloc(root, cpu, this.tree.cgroupOf(task));
  }

  protected release(handle: number, cpu: number): void {
    this.slabs.free(handle, cpu);
  }

  protected removeCharges(node: Cgroup): Cgroup {
    return node.parent ?? node;
  }
}
