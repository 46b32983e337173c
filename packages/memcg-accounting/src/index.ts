export { CgroupTree, ROOT_CGROUP } from './cgroup-tree.js';
export type { Cgroup, CgroupOp, CgroupSnapshot, CounterName } from './cgroup-tree.js';
export type { ResCounter } from './res-counter.js';
export { MemcgError } from './errors.js';
export type { MemcgErrorCode } from './errors.js';
export { Prng } from './prng.js';
export { PAGE_SIZE } from './page-allocator.js';
export type { AllocatorKind, CacheSpec } from './kmem-cache.js';
export {
  Accounting,
  GFP_ACCOUNT,
  GFP_ATOMIC,
  GFP_KERNEL,
  GFP_NOACCOUNT,
  GFP_NOFAIL,
  IN_INTERRUPT,
} from './accounting.js';
export type { AccountingStats, DesignId, MachineConfig, ShrinkFn } from './accounting.js';
export { CostaAccounting } from './design-costa.js';
export type { MemcgCacheRegistration } from './design-costa.js';
export { SouhlalAccounting } from './design-souhlal.js';
export type { SouhlalOptions } from './design-souhlal.js';
export { ObjcgAccounting } from './design-objcg.js';
export { NoAccounting } from './design-off.js';
export { createDesign, DESIGNS } from './designs.js';
export type { DesignOptions } from './designs.js';
export { Kernel, KMALLOC_SIZES } from './kernel-users.js';
export type { KernelOptions } from './kernel-users.js';
export {
  atomicWorkload,
  churnWorkload,
  isolationWorkload,
  manyCgroupsWorkload,
  pathCost,
} from './workloads.js';
export type { PathCost, WorkloadOptions } from './workloads.js';
export type { CgroupFigures, WorkloadId, WorkloadResult } from './workload-result.js';
export { compareDesigns, WORKLOADS } from './compare.js';
export type { Comparison } from './compare.js';
