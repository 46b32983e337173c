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
  readonly config?: GitdmConfig;
}

interface Developer {
  name: string;
  bestNameScore: number;
  /** Where the developer was first met in the log (the earliest of their identities). */
  order: number;
  counts: IdentityCounts;
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

interface Ranked<T> {
  readonly item: T;
  readonly name: string;
}

/**
 * gitdm sorts one list in place for each table, by count only, with a stable sort: equal
 * counts keep the order of the previous table, and the first table the order in which
 * the log met them. `keys` are applied in gitdm's table order; each result is a ranking.
 */
function rankInChain<T>(items: readonly Ranked<T>[], keys: readonly ((item: T) => number)[]): Ranked<T>[][] {
  let order = [...items];
  return keys.map((key) => {
    order = [...order].sort((a, b) => key(b.item) - key(a.item));
    return order;
  });
}

function table<T>(id: string, title: string, unit: string, ranked: readonly Ranked<T>[], count: (item: T) => number, top: number | undefined, total?: number): Table {
  const rows = ranked.map(({ item, name }) => [name, count(item)] as const).filter(([, n]) => n > 0);
  const denominator = total ?? rows.reduce((sum, [, n]) => sum + n, 0);
  const kept = top === undefined ? rows : rows.slice(0, top);
  return {
    id,
    title,
    unit,
    total: denominator,
    rows: kept.map(([name, n]) => ({ name, count: n, percent: denominator === 0 ? 0 : round2((n * 100) / denominator) })),
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
    const order = acc.identityOrder.get(key) ?? Number.MAX_SAFE_INTEGER;
    if (dev === undefined) {
      dev = { name, bestNameScore: score, order, counts: { ...counts } };
      byRoot.set(root, dev);
    } else {
      dev.order = Math.min(dev.order, order);
      for (const field of Object.keys(counts) as (keyof IdentityCounts)[]) dev.counts[field] += counts[field];
      if (score > dev.bestNameScore || (score === dev.bestNameScore && name < dev.name)) {
        dev.name = name;
        dev.bestNameScore = score;
      }
    }
    byKey.set(key, dev);
  }
  return { byKey, list: [...byRoot.values()].sort((a, b) => a.order - b.order) };
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
  const employerOrder = (name: string): number => acc.employerOrder.get(name) ?? virtualOrder(acc, options.config, name);
  const allEmployers = [...employers].sort(([a], [b]) => employerOrder(a) - employerOrder(b));
  const developersOf = (counts: EmployerCounts): number => {
    const seen = new Set<Developer>();
    for (const key of counts.authors) {
      const dev = byKey.get(key);
      if (dev !== undefined) seen.add(dev);
    }
    return seen.size;
  };
  const [byChangesets = [], byLines = [], byRemoved = [], bySignoffs = [], byReviews = [], byTests = [], byTestsGiven = [], byReports = [], byReportsGiven = []] =
    rankInChain(list.map((dev) => ({ item: dev.counts, name: dev.name })), [
      (c) => c.changesets, (c) => c.changed, (c) => c.removed - c.added, (c) => c.signoffs, (c) => c.reviews,
      (c) => c.tests, (c) => c.testCreditsGiven, (c) => c.reports, (c) => c.reportCreditsGiven,
    ]);
  const [eChangesets = [], eLines = [], eSignoffs = [], eDevelopers = []] = rankInChain(
    allEmployers.map(([name, counts]) => ({ item: { ...counts, developers: developersOf(counts) }, name })),
    [(c) => c.changesets, (c) => c.changed, (c) => c.signoffs, (c) => c.developers],
  );
  // Virtual employers' splits can leave an employer lines without a whole changeset.
  const active = (ranked: readonly Ranked<EmployerCounts & { developers: number }>[]): typeof ranked =>
    ranked.filter(({ item }) => item.changesets > 0 || item.changed > 0);
  return {
    schema: REPORT_SCHEMA,
    title: options.title ?? '',
    period: acc.firstDate === undefined || acc.lastDate === undefined ? null : { from: acc.firstDate, to: acc.lastDate },
    totals: {
      changesets: acc.changesets,
      merges: acc.merges,
      developers: authors.length,
      employers: active(eChangesets).length,
      added: acc.added,
      removed: acc.removed,
      changed: acc.changed,
      net: acc.added - acc.removed,
    },
    developers: [
      table('changesets', 'By changesets', 'changesets', byChangesets, (c) => c.changesets, top, acc.changesets),
      table('changed-lines', 'By changed lines', 'lines', byLines, (c) => c.changed, top, acc.changed),
      table('lines-removed', 'By lines removed', 'lines', byRemoved, (c) => c.removed - c.added, top, acc.removed),
      table('signoffs', 'By signoffs', 'signoffs', bySignoffs, (c) => c.signoffs, top),
      table('reviews', 'By Reviewed-by', 'reviews', byReviews, (c) => c.reviews, top),
      table('tests', 'By Tested-by', 'credits', byTests, (c) => c.tests, top),
      table('reports', 'By Reported-by', 'credits', byReports, (c) => c.reports, top),
      table('test-credits-given', 'Tested-by credits given', 'credits', byTestsGiven, (c) => c.testCreditsGiven, top),
      table('report-credits-given', 'Reported-by credits given', 'credits', byReportsGiven, (c) => c.reportCreditsGiven, top),
    ],
    employers: [
      table('changesets', 'By changesets', 'changesets', active(eChangesets), (c) => c.changesets, top, acc.changesets),
      table('changed-lines', 'By lines changed', 'lines', active(eLines), (c) => c.changed, top, acc.changed),
      table('signoffs', 'By signoffs', 'signoffs', eSignoffs, (c) => c.signoffs, top),
      table('developers', 'By developers', 'developers', active(eDevelopers), (c) => c.developers, top),
    ],
  };
}

/** An employer that only a VirtualEmployer's split created sits where that virtual one was met. */
function virtualOrder(acc: StatsAccumulator, config: GitdmConfig | undefined, name: string): number {
  let best = Number.MAX_SAFE_INTEGER;
  for (const [virtual, splits] of config?.virtualEmployers ?? []) {
    if (splits.some((split) => split.employer === name)) best = Math.min(best, acc.employerOrder.get(virtual) ?? best);
  }
  return best;
}
