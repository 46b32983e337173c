import type { EmployerCounts, IdentityCounts, StatsAccumulator } from './accumulator.js';
import type { GitdmConfig } from './gitdm-config.js';
import { DisjointSets } from './disjoint-sets.js';

/** Version of the JSON report layout; bumped on any incompatible change. */
export const REPORT_SCHEMA = 'dev-stats/1';

export interface Row {
  readonly name: string;
  readonly count: number;
  /** count / table total × 100, rounded to 2 decimals. */
  readonly percent: number;
}

export interface Table {
  readonly id: string;
  readonly title: string;
  readonly unit: string;
  /** The denominator of the percentages (over all rows, not only the ones kept by `top`). */
  readonly total: number;
  readonly rows: readonly Row[];
}

export interface StatsTotals {
  readonly changesets: number;
  readonly merges: number;
  readonly developers: number;
  readonly employers: number;
  readonly added: number;
  readonly removed: number;
  readonly changed: number;
  readonly net: number;
}

export interface StatsReport {
  readonly schema: typeof REPORT_SCHEMA;
  readonly title: string;
  readonly period: { readonly from: string; readonly to: string } | null;
  readonly totals: StatsTotals;
  readonly developers: readonly Table[];
  readonly employers: readonly Table[];
}

export interface ReportOptions {
  readonly title?: string;
  /** Keep this many rows per table (all when undefined). */
  readonly top?: number;
  /**
   * gitdm ranks developers by max(Σadded, Σremoved) over their changesets; the default
   * here is Σ max(added, removed) per changeset, so the rows add up to the total.
   */
  readonly gitdmDeveloperLines?: boolean;
  readonly config?: GitdmConfig;
}

interface Developer {
  name: string;
  bestNameScore: number;
  counts: IdentityCounts;
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

function table(id: string, title: string, unit: string, entries: Iterable<readonly [string, number]>, top: number | undefined, total?: number): Table {
  const rows = [...entries].filter(([, count]) => count > 0);
  rows.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const denominator = total ?? rows.reduce((sum, [, count]) => sum + count, 0);
  const kept = top === undefined ? rows : rows.slice(0, top);
  return {
    id,
    title,
    unit,
    total: denominator,
    rows: kept.map(([name, count]) => ({ name, count, percent: denominator === 0 ? 0 : round2((count * 100) / denominator) })),
  };
}

/** Folds identities that share a name or an address into developers, like gitdm does. */
function developers(acc: StatsAccumulator): { byKey: Map<string, Developer>; list: Developer[] } {
  const sets = new DisjointSets();
  const keys = [...acc.identities.keys()].sort();
  for (const key of keys) {
    const [name = '', email = ''] = key.split('\0');
    // An empty name or address links nobody (gitdm would lump them all together).
    if (name !== '') sets.union(`k:${key}`, `n:${name}`);
    if (email !== '') sets.union(`k:${key}`, `e:${email}`);
  }
  const byRoot = new Map<string, Developer>();
  const byKey = new Map<string, Developer>();
  for (const key of keys) {
    const counts = acc.identities.get(key);
    if (counts === undefined) continue;
    const [name = ''] = key.split('\0');
    const root = sets.find(`k:${key}`);
    let dev = byRoot.get(root);
    const score = counts.changesets * 1e6 + counts.signoffs + counts.reviews + counts.tests + counts.reports;
    if (dev === undefined) {
      dev = { name, bestNameScore: score, counts: { ...counts } };
      byRoot.set(root, dev);
    } else {
      for (const field of Object.keys(counts) as (keyof IdentityCounts)[]) dev.counts[field] += counts[field];
      if (score > dev.bestNameScore || (score === dev.bestNameScore && name < dev.name)) {
        dev.name = name;
        dev.bestNameScore = score;
      }
    }
    byKey.set(key, dev);
  }
  return { byKey, list: [...byRoot.values()] };
}

/** Shares a virtual employer's counts out to real ones; what rounding leaves stays with it. */
function applyVirtualEmployers(employers: ReadonlyMap<string, EmployerCounts>, config: GitdmConfig | undefined): Map<string, EmployerCounts> {
  const result = new Map<string, EmployerCounts>();
  const get = (name: string): EmployerCounts => {
    let counts = result.get(name);
    if (counts === undefined) {
      counts = { changesets: 0, added: 0, removed: 0, changed: 0, signoffs: 0, authors: new Set() };
      result.set(name, counts);
    }
    return counts;
  };
  for (const [name, counts] of employers) {
    const splits = config?.virtualEmployers.get(name);
    if (splits === undefined) {
      const mine = get(name);
      mine.changesets += counts.changesets;
      mine.added += counts.added;
      mine.removed += counts.removed;
      mine.changed += counts.changed;
      mine.signoffs += counts.signoffs;
      for (const author of counts.authors) mine.authors.add(author);
      continue;
    }
    const left = { changesets: counts.changesets, added: counts.added, removed: counts.removed, changed: counts.changed, signoffs: counts.signoffs };
    for (const split of splits) {
      const real = get(split.employer);
      for (const field of ['changesets', 'added', 'removed', 'changed', 'signoffs'] as const) {
        const share = Math.floor((counts[field] * split.percent) / 100);
        real[field] += share;
        left[field] -= share;
      }
      for (const author of counts.authors) real.authors.add(author);
    }
    if (Object.values(left).some((value) => value > 0)) {
      const rest = get(name);
      for (const field of ['changesets', 'added', 'removed', 'changed', 'signoffs'] as const) rest[field] += left[field];
      for (const author of counts.authors) rest.authors.add(author);
    }
  }
  return result;
}

/** Builds LWN's tables from an accumulator (pure; no I/O). */
export function buildReport(acc: StatsAccumulator, options: ReportOptions = {}): StatsReport {
  const top = options.top;
  const { byKey, list } = developers(acc);
  const authors = list.filter((dev) => dev.counts.changesets > 0);
  const employers = applyVirtualEmployers(acc.employers, options.config);
  const allEmployers = [...employers];
  // Virtual employers' splits can leave an employer lines without a whole changeset.
  const activeEmployers = allEmployers.filter(([, counts]) => counts.changesets > 0 || counts.changed > 0);
  const devs = (pick: (counts: IdentityCounts) => number): (readonly [string, number])[] => list.map((dev) => [dev.name, pick(dev.counts)] as const);
  const developersOf = (counts: EmployerCounts): number => {
    const seen = new Set<Developer>();
    for (const key of counts.authors) {
      const dev = byKey.get(key);
      if (dev !== undefined) seen.add(dev);
    }
    return seen.size;
  };
  const lines = options.gitdmDeveloperLines === true
    ? (c: IdentityCounts): number => Math.max(c.added, c.removed)
    : (c: IdentityCounts): number => c.changed;
  return {
    schema: REPORT_SCHEMA,
    title: options.title ?? '',
    period: acc.firstDate === undefined || acc.lastDate === undefined ? null : { from: acc.firstDate, to: acc.lastDate },
    totals: {
      changesets: acc.changesets,
      merges: acc.merges,
      developers: authors.length,
      employers: activeEmployers.length,
      added: acc.added,
      removed: acc.removed,
      changed: acc.changed,
      net: acc.added - acc.removed,
    },
    developers: [
      table('changesets', 'By changesets', 'changesets', devs((c) => c.changesets), top, acc.changesets),
      table('changed-lines', 'By changed lines', 'lines', devs(lines), top, acc.changed),
      table('lines-removed', 'By lines removed', 'lines', devs((c) => c.removed - c.added), top, acc.removed),
      table('signoffs', 'By signoffs', 'signoffs', devs((c) => c.signoffs), top),
      table('reviews', 'By Reviewed-by', 'reviews', devs((c) => c.reviews), top),
      table('tests', 'By Tested-by', 'credits', devs((c) => c.tests), top),
      table('reports', 'By Reported-by', 'credits', devs((c) => c.reports), top),
      table('test-credits-given', 'Tested-by credits given', 'credits', devs((c) => c.testCreditsGiven), top),
      table('report-credits-given', 'Reported-by credits given', 'credits', devs((c) => c.reportCreditsGiven), top),
    ],
    employers: [
      table('changesets', 'By changesets', 'changesets', activeEmployers.map(([name, c]) => [name, c.changesets] as const), top, acc.changesets),
      table('changed-lines', 'By lines changed', 'lines', activeEmployers.map(([name, c]) => [name, c.changed] as const), top, acc.changed),
      table('signoffs', 'By signoffs', 'signoffs', allEmployers.map(([name, c]) => [name, c.signoffs] as const), top),
      table('developers', 'By developers', 'developers', activeEmployers.map(([name, c]) => [name, developersOf(c)] as const), top),
    ],
  };
}
