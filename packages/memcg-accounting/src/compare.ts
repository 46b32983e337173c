import type { DesignId } from './accounting.js';
import { DESIGNS } from './designs.js';
import { checkChoice } from './validate.js';
import type { WorkloadId, WorkloadResult } from './workload-result.js';
import {
  atomicWorkload,
  churnWorkload,
  isolationWorkload,
  manyCgroupsWorkload,
  pathCost,
  type PathCost,
  type WorkloadOptions,
} from './workloads.js';

export const WORKLOADS: readonly WorkloadId[] = ['isolation', 'churn', 'many-cgroups', 'atomic'];

export interface Comparison {
  readonly seed: number;
  readonly scale: number;
  readonly results: readonly WorkloadResult[];
  readonly pathCost: Readonly<Record<Exclude<DesignId, 'off'>, PathCost>>;
  /** Souhlal's removal exactly as posted (charges dropped, later uncharges clamp), on the churn workload. */
  readonly souhlalAsPosted: WorkloadResult | null;
}

const RUNNERS: Record<WorkloadId, (id: DesignId, options: WorkloadOptions) => WorkloadResult> = {
  isolation: isolationWorkload,
  churn: churnWorkload,
  'many-cgroups': manyCgroupsWorkload,
  atomic: atomicWorkload,
};

/** Every workload on every design, plus the allocation path's cost: the whole comparison. */
export function compareDesigns(options: WorkloadOptions = {}, workloads: readonly WorkloadId[] = WORKLOADS): Comparison {
  for (const w of workloads) checkChoice(w, 'a workload', WORKLOADS);
  const results: WorkloadResult[] = [];
  for (const workload of workloads) for (const design of DESIGNS) results.push(RUNNERS[workload](design, options));
  return {
    seed: options.seed ?? 2012,
    scale: options.scale ?? 1,
    results,
    pathCost: { costa: pathCost('costa'), souhlal: pathCost('souhlal'), objcg: pathCost('objcg') },
    souhlalAsPosted: workloads.includes('churn')
      ? churnWorkload('souhlal', { ...options, design: { souhlal: { removal: 'as-posted' } } })
      : null,
  };
}
