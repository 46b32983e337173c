export { CgroupTree, ROOT_CGROUP } from './cgroup-tree.js';
export type { Cgroup, CgroupOp, CgroupSnapshot, CounterName } from './cgroup-tree.js';
export type { ResCounter } from './res-counter.js';
export { MemcgError } from './errors.js';
export type { MemcgErrorCode } from './errors.js';
export { Prng } from './prng.js';
