import { compareDesigns, DESIGNS, RUNS, WORKLOAD_KINDS, WORKLOADS } from '@kernsim/memcg-accounting';
import type { WorkloadId } from '@kernsim/memcg-accounting';

export interface MemcgParams {
  readonly seed: number;
  /** Workload size in percent of the full run. */
  readonly scale: number;
}

export interface MemcgRow {
  readonly workload: WorkloadId;
  readonly design: string;
  readonly slabPages: number;
  readonly utilisation: number;
  readonly caches: number;
  readonly deadCaches: number;
  readonly failedAllocs: number;
  readonly escapedKiB: number;
  readonly deadCgroupsAlive: number;
  /** Churn: KiB still charged to the parent and the root after the containers were removed. */
  readonly chargedAfterRemovalKiB: number;
  readonly limitsHeld: boolean;
}

export interface MemcgData {
  readonly params: MemcgParams;
  readonly designs: readonly string[];
  readonly workloads: readonly WorkloadId[];
  /** 'worst case' (synthetic stress) or 'modelled host', per workload. */
  readonly kinds: Readonly<Record<string, string>>;
  readonly rows: readonly MemcgRow[];
  readonly pathCost: readonly { readonly design: string; readonly off: number; readonly onUnused: number; readonly on: number }[];
  /** The dying-cgroup series: short-lived containers on one host, sampled every few hours. */
  readonly dying: readonly { readonly design: string; readonly hours: readonly number[]; readonly deadCgroupsAlive: readonly number[]; readonly deadCaches: readonly number[]; readonly leftBehindKiB: readonly number[] }[];
}

const kib = (bytes: number): number => Math.round(bytes / 1024);

/** The three designs on every workload (the library's own comparison), flattened for charts. */
export function computeMemcg(params: MemcgParams): MemcgData {
  const seed = Math.max(0, Math.floor(params.seed));
  const scale = Math.max(1, Math.min(100, Math.floor(params.scale)));
  const c = compareDesigns({ seed, scale: scale / 100 }, RUNS);
  return {
    params: { seed, scale },
    designs: DESIGNS,
    workloads: WORKLOADS,
    kinds: WORKLOAD_KINDS,
    rows: c.results.map((r) => ({
      workload: r.workload,
      design: r.design,
      slabPages: r.slabPages,
      utilisation: r.utilisation,
      caches: r.caches,
      deadCaches: r.deadCaches,
      failedAllocs: r.failedAllocs,
      escapedKiB: kib(r.escapedBytes),
      deadCgroupsAlive: r.deadCgroupsAlive,
      chargedAfterRemovalKiB: kib((r.extra.containersCharged ?? 0) + (r.extra.rootCharged ?? 0)),
      limitsHeld: r.limitsHeld,
    })),
    pathCost: DESIGNS.map((d) => ({ design: d, ...c.pathCost[d] })),
    dying: (c.dying ?? []).map((s) => ({
      design: s.design,
      hours: s.samples.map((x) => x.hour),
      deadCgroupsAlive: s.samples.map((x) => x.deadCgroupsAlive),
      deadCaches: s.samples.map((x) => x.deadCaches),
      leftBehindKiB: s.samples.map((x) => kib(x.leftBehindBytes)),
    })),
  };
}
