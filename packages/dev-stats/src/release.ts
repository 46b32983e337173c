import { dateOfDay, dayNumber } from './dates.js';
import { DevStatsError } from './errors.js';
import { compareSeries, compareVersions, parseVersion, type Version } from './versions.js';

export interface TagDate {
  readonly tag: string;
  /** YYYY-MM-DD */
  readonly date: string;
}

export interface ReleaseCycle {
  readonly release: string;
  readonly date: string;
  /** Days since the previous release. */
  readonly days: number;
}

export interface StableUpdate {
  readonly tag: string;
  readonly series: string;
  readonly date: string;
}

export interface ReleaseStatus {
  readonly schema: 'dev-stats-release/1';
  readonly now: string;
  readonly lastRelease: { readonly tag: string; readonly date: string; readonly daysAgo: number } | null;
  /** The series being developed now, if any rc of it is tagged. */
  readonly current: { readonly series: string; readonly latestRc: string; readonly rcDate: string; readonly rcs: number } | null;
  readonly cycles: readonly ReleaseCycle[];
  readonly prediction: {
    readonly date: string;
    /** ± this many days (one standard deviation of the recent cycle lengths). */
    readonly spreadDays: number;
    readonly basedOnCycles: number;
    readonly meanDays: number;
    /** Days past the predicted date (0 when it is still ahead). */
    readonly overdueDays: number;
  } | null;
  readonly stable: readonly StableUpdate[];
}

export interface ReleaseOptions {
  /** How many recent cycles the prediction averages (default 10). */
  readonly window?: number;
  /** How many stable updates to list (default 5). */
  readonly stableCount?: number;
}

/**
 * Where a project is in its release cycle, from its tags and their dates. `now` is a
 * parameter (YYYY-MM-DD): the library never reads the clock.
 */
export function releaseStatus(tags: readonly TagDate[], now: string, options: ReleaseOptions = {}): ReleaseStatus {
  const today = dayNumber(now);
  const versioned = tags.map((t) => ({ version: parseVersion(t.tag), date: t.date })).filter((t): t is { version: Version; date: string } => t.version !== undefined);
  const dated = versioned.filter((t) => dayNumber(t.date) <= today);
  if (dated.length === 0) {
    // Tags that exist but all come after `now` are not "no tags": say which day was asked for.
    const why = versioned.length === 0 ? 'no release tags (vX.Y, vX.Y-rcN, vX.Y.Z) found' : `no release tag on or before ${now}: the first of ${String(versioned.length)} is dated ${versioned.map((t) => t.date).sort()[0] ?? ''}`;
    throw new DevStatsError('DEV_STATS_NO_RELEASES', why);
  }
  const releases = dated.filter((t) => t.version.kind === 'release').sort((a, b) => compareSeries(a.version.seriesNumbers, b.version.seriesNumbers));
  // Mainline order is version order; a 2.6.x → 3.0 style jump is still "next".
  const cycles: ReleaseCycle[] = [];
  for (let i = 1; i < releases.length; i++) {
    const prev = releases[i - 1];
    const cur = releases[i];
    if (prev === undefined || cur === undefined) continue;
    cycles.push({ release: cur.version.tag, date: cur.date, days: dayNumber(cur.date) - dayNumber(prev.date) });
  }
  const last = releases[releases.length - 1];
  const rcs = dated
    .filter((t) => t.version.kind === 'rc' && (last === undefined || compareSeries(t.version.seriesNumbers, last.version.seriesNumbers) > 0))
    .sort((a, b) => compareVersions(a.version, b.version));
  const latestRc = rcs[rcs.length - 1];
  const currentSeries = latestRc?.version.series;
  const window = cycles.slice(-(options.window ?? 10)).filter((c) => c.days > 0);
  let prediction: ReleaseStatus['prediction'] = null;
  if (last !== undefined && window.length > 0) {
    const mean = window.reduce((s, c) => s + c.days, 0) / window.length;
    const variance = window.reduce((s, c) => s + (c.days - mean) ** 2, 0) / window.length;
    const predicted = dayNumber(last.date) + Math.round(mean);
    prediction = {
      date: dateOfDay(predicted),
      spreadDays: Math.round(Math.sqrt(variance)),
      basedOnCycles: window.length,
      meanDays: Math.round(mean * 10) / 10,
      overdueDays: Math.max(0, today - predicted),
    };
  }
  const stable = dated
    .filter((t) => t.version.kind === 'stable')
    .sort((a, b) => (a.date < b.date ? 1 : a.date > b.date ? -1 : -compareVersions(a.version, b.version)))
    .slice(0, options.stableCount ?? 5)
    .map((t) => ({ tag: t.version.tag, series: t.version.series, date: t.date }));
  return {
    schema: 'dev-stats-release/1',
    now,
    lastRelease: last === undefined ? null : { tag: last.version.tag, date: last.date, daysAgo: today - dayNumber(last.date) },
    current:
      latestRc === undefined || currentSeries === undefined
        ? null
        : { series: currentSeries, latestRc: latestRc.version.tag, rcDate: latestRc.date, rcs: rcs.filter((r) => r.version.series === currentSeries).length },
    cycles,
    prediction,
    stable,
  };
}
