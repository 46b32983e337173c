export { CgroupTree, ROOT_CGROUP } from './cgroup-tree.js';
export type { Cgroup, CgroupOp, CgroupSnapshot, CounterName } from './cgroup-tree.js';
export type { ResCounter } from './res-counter.js';
export { COUNTER_NAMES, MAX_TASK } from './cgroup-tree.js';
export type { KmemRoute } from './cgroup-tree.js';
export { MemcgError } from './errors.js';
export type { MemcgErrorCode } from './errors.js';
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
  MAX_CPUS,
  MAX_PAGES,
  MAX_STACK_ORDER,
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
  MAX_SCALE,
  pathCost,
} from './workloads.js';
export type { PathCost, WorkloadOptions } from './workloads.js';
export type { CgroupFigures, WorkloadId, WorkloadResult } from './workload-result.js';
export { compareDesigns, RUNS, WORKLOAD_KINDS, WORKLOADS } from './compare.js';
export type { Comparison, RunId } from './compare.js';
export { hostWorkload } from './host-workloads.js';
export { HOST_CACHES, PROFILES } from './host-profiles.js';
export type { Basis, CacheUse, ContainerProfile, HostCache, ProfileId } from './host-profiles.js';
export { dyingCgroupSeries } from './dying-series.js';
export type { DyingSample, DyingSeries } from './dying-series.js';
