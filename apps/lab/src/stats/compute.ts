import { Attribution, buildReport, buildTrend, LogParser, REPORT_SCHEMA, StatsAccumulator } from '@kernsim/dev-stats';
import type { CommitRecord, StatsReport, Table, Trend } from '@kernsim/dev-stats';

export interface StatsData {
  readonly source: string;
  /** The tables (absent when the file was a trend). */
  readonly report: StatsReport | undefined;
  /** Changesets per period (months of the log, or the releases of a trend file), by employer. */
  readonly trend: Trend | undefined;
}

/** Too many points make an unreadable line chart: beyond this, months merge into quarters. */
const MAX_MONTHS = 24;

function monthOf(date: string): string {
  return date.slice(0, 7);
}

function quarterOf(date: string): string {
  const month = Number(date.slice(5, 7));
  return `${date.slice(0, 4)}Q${Math.ceil(month / 3)}`;
}

/** A `git log --numstat` text (gitdm style or dev-stats' own format): the tables, and a trend by month. */
function fromLog(name: string, text: string): StatsData {
  const commits: CommitRecord[] = [];
  const parser = new LogParser((c) => commits.push(c), 'auto');
  try {
    for (const line of text.split(/\r?\n/)) parser.line(line);
    parser.end();
  } catch (e) {
    throw new Error(`${name}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  if (commits.length === 0) throw new Error(`${name}: no commits found; expected the output of git log --numstat (or of dev-stats -f json)`);
  const attribution = new Attribution();
  const all = new StatsAccumulator(attribution);
  for (const c of commits) all.add(c);
  const report = buildReport(all, { title: name });
  const months = new Set(commits.map((c) => monthOf(c.date)));
  const period = months.size > MAX_MONTHS ? quarterOf : monthOf;
  const byPeriod = new Map<string, StatsAccumulator>();
  for (const c of commits) {
    const key = period(c.date);
    let acc = byPeriod.get(key);
    if (!acc) byPeriod.set(key, (acc = new StatsAccumulator(attribution)));
    acc.add(c);
  }
  const inputs = [...byPeriod.keys()].sort().map((release) => ({ release, report: buildReport(byPeriod.get(release)!, { title: release }) }));
  return { source: name, report, trend: inputs.length >= 2 ? buildTrend(inputs) : undefined };
}

function isTable(x: unknown): x is Table {
  if (typeof x !== 'object' || x === null) return false;
  const t = x as Record<string, unknown>;
  return typeof t.id === 'string' && typeof t.title === 'string' && Array.isArray(t.rows);
}

function isTrend(o: Record<string, unknown>): boolean {
  if (o.schema !== 'dev-stats-trend/1' || !Array.isArray(o.employers) || !Array.isArray(o.points)) return false;
  return (
    o.employers.every((e) => typeof e === 'string') &&
    o.points.every((p: unknown) => {
      const q = (typeof p === 'object' && p !== null ? p : {}) as Record<string, unknown>;
      return typeof q.release === 'string' && typeof q.shares === 'object' && q.shares !== null && Object.values(q.shares).every((v) => typeof v === 'number');
    })
  );
}

/** What `dev-stats -f json` (a report) or `dev-stats trend -f json` writes: checked field by field, since it comes from outside. */
function fromJson(name: string, text: string): StatsData {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new Error(`${name}: not valid JSON (${e instanceof Error ? e.message : String(e)})`, { cause: e });
  }
  const o = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  if (o.schema === REPORT_SCHEMA && Array.isArray(o.developers) && Array.isArray(o.employers) && o.developers.every(isTable) && o.employers.every(isTable)) {
    return { source: name, report: value as StatsReport, trend: undefined };
  }
  if (isTrend(o)) return { source: name, report: undefined, trend: value as Trend };
  throw new Error(`${name}: JSON is not a dev-stats report or trend (schema ${REPORT_SCHEMA} or dev-stats-trend/1 expected, found ${typeof o.schema === 'string' ? o.schema : 'none'})`);
}

/** Reads a dropped file: JSON from dev-stats, or a git log. */
export function computeStats(name: string, text: string): StatsData {
  return text.trimStart().startsWith('{') ? fromJson(name, text) : fromLog(name, text);
}
