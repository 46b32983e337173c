/** Stable codes of every error the package throws; tests and callers match on these. */
export type MemcgErrorCode =
  | 'KERNSIM_MEMCG_UNKNOWN_CGROUP'
  | 'KERNSIM_MEMCG_UNKNOWN_TASK'
  | 'KERNSIM_MEMCG_UNKNOWN_CACHE'
  | 'KERNSIM_MEMCG_LIMIT_BELOW_USAGE'
  | 'KERNSIM_MEMCG_CGROUP_HAS_TASKS'
  | 'KERNSIM_MEMCG_CGROUP_HAS_CHILDREN'
  | 'KERNSIM_MEMCG_ROOT_IMMUTABLE'
  | 'KERNSIM_MEMCG_CGROUP_REMOVED'
  | 'KERNSIM_MEMCG_DOUBLE_FREE'
  | 'KERNSIM_MEMCG_KMEM_NOT_INDEPENDENT'
  | 'KERNSIM_MEMCG_BAD_ARGUMENT';

/**
 * The one error class of the package. Every operation validates before it mutates, so an
 * operation that throws this error leaves the simulation exactly as it was.
 */
export class MemcgError extends Error {
  override readonly name = 'MemcgError';
  readonly code: MemcgErrorCode;

  constructor(code: MemcgErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
