import { NONE_EMPLOYER } from './attribution.js';
import type { StatsReport } from './report.js';

export interface TrendInput {
  readonly release: string;
  readonly report: StatsReport;
}

export interface TrendPoint {
  readonly release: string;
  readonly changesets: number;
  readonly developers: number;
  readonly employers: number;
  /** Share of the release's changesets (percent, 2 decimals) per tracked employer. */
  readonly shares: Readonly<Record<string, number>>;
  /** Changesets per tracked employer (what printed shares are computed from, rounded once). */
  readonly counts: Readonly<Record<string, number>>;
}

/** An employer's share of a point's changesets, unrounded. */
export function shareOf(point: TrendPoint, employer: string): number {
  return point.changesets === 0 ? 0 : ((point.counts[employer] ?? 0) * 100) / point.changesets;
}

export interface Trend {
  readonly schema: 'dev-stats-trend/1';
  readonly employers: readonly string[];
  readonly points: readonly TrendPoint[];
}

export interface TrendOptions {
  /** Employers to follow; default: "(None)" plus the `top` biggest over all releases. */
  readonly employers?: readonly string[];
  readonly top?: number;
}

/** Per-release series over consecutive releases (reports must hold all employer rows). */
export function buildTrend(inputs: readonly TrendInput[], options: TrendOptions = {}): Trend {
  let employers = options.employers;
  if (employers === undefined) {
    const totals = new Map<string, number>();
    for (const { report } of inputs) {
      for (const row of report.employers.find((t) => t.id === 'changesets')?.rows ?? []) {
        totals.set(row.name, (totals.get(row.name) ?? 0) + row.count);
      }
    }
    const ranked = [...totals].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([name]) => name);
    const top = ranked.filter((name) => name !== NONE_EMPLOYER).slice(0, options.top ?? 5);
    employers = totals.has(NONE_EMPLOYER) ? [NONE_EMPLOYER, ...top] : top;
  }
  const points = inputs.map(({ release, report }) => {
    const rows = report.employers.find((t) => t.id === 'changesets')?.rows ?? [];
    const shares: Record<string, number> = {};
    const counts: Record<string, number> = {};
    for (const name of employers) {
      const count = rows.find((row) => row.name === name)?.count ?? 0;
      counts[name] = count;
      shares[name] = report.totals.changesets === 0 ? 0 : Math.round((count * 10000) / report.totals.changesets) / 100;
    }
    return {
      release,
      changesets: report.totals.changesets,
      developers: report.totals.developers,
      employers: report.totals.employers,
      shares,
      counts,
    };
  });
  return { schema: 'dev-stats-trend/1', employers, points };
}
