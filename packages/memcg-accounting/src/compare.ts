import type { DesignId } from './accounting.js';
import { DESIGNS } from './designs.js';
import { type DyingSeries, dyingCgroupSeries } from './dying-series.js';
import { hostWorkload } from './host-workloads.js';
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

export const WORKLOADS: readonly WorkloadId[] = ['isolation', 'churn', 'many-cgroups', 'atomic', 'host'];

/** What a workload stands for: a synthetic stress case, or a model of a real container host. */
export const WORKLOAD_KINDS: Readonly<Record<WorkloadId | 'dying', 'worst case' | 'modelled host'>> = {
  isolation: 'worst case',
  churn: 'worst case',
  'many-cgroups': 'worst case',
  atomic: 'worst case',
  host: 'modelled host',
  dying: 'modelled host',
};

/** A workload of the table, or the dying-cgroup series (a series of samples instead of one row). */
export type RunId = WorkloadId | 'dying';
export const RUNS: readonly RunId[] = [...WORKLOADS, 'dying'];

export interface Comparison {
  readonly seed: number;
  readonly scale: number;
  readonly results: readonly WorkloadResult[];
  readonly pathCost: Readonly<Record<Exclude<DesignId, 'off'>, PathCost>>;
  /** Souhlal's removal exactly as posted (charges dropped, later uncharges clamp), on the churn workload. */
  readonly souhlalAsPosted: WorkloadResult | null;
  /** The dying-cgroup series of each design, when asked for. */
  readonly dying: readonly DyingSeries[] | null;
}

const RUNNERS: Record<WorkloadId, (id: DesignId, options: WorkloadOptions) => WorkloadResult> = {
  isolation: isolationWorkload,
  churn: churnWorkload,
  'many-cgroups': manyCgroupsWorkload,
  atomic: atomicWorkload,
  host: hostWorkload,
};

/** Every workload on every design, plus the allocation path's cost: the whole comparison. */
export function compareDesigns(options: WorkloadOptions = {}, runs: readonly RunId[] = RUNS): Comparison {
  for (const w of runs) checkChoice(w, 'a workload', RUNS);
  const workloads = WORKLOADS.filter((w) => runs.includes(w));
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
    dying: runs.includes('dying') ? DESIGNS.map((d) => dyingCgroupSeries(d, options)) : null,
  };
}
