/** A tag read as a release version: mainline release, release candidate or stable update. */
export interface Version {
  readonly tag: string;
  /** The mainline series it belongs to, e.g. "3.3" or "2.6.32". */
  readonly series: string;
  readonly seriesNumbers: readonly number[];
  readonly kind: 'release' | 'rc' | 'stable';
  /** rc number, or stable update number (the last component). */
  readonly number: number;
}

const TAG = /^v(\d+(?:\.\d+)*)(?:-rc(\d+))?$/;

/**
 * Reads `vX.Y` (release), `vX.Y-rcN`, `vX.Y.Z` (stable update). Linux 2.6 releases carry
 * three numbers (`v2.6.32`, stable `v2.6.32.58`); projects that tag releases `vX.Y.0`
 * (git itself) have `.0` read as the release. Anything else is not a version.
 */
export function parseVersion(tag: string): Version | undefined {
  const match = TAG.exec(tag);
  if (match === null) return undefined;
  const numbers = (match[1] ?? '').split('.').map(Number);
  const seriesLength = numbers[0] === 2 && numbers[1] === 6 ? 3 : 2;
  if (numbers.length < seriesLength || numbers.length > seriesLength + 1) return undefined;
  const seriesNumbers = numbers.slice(0, seriesLength);
  const series = seriesNumbers.join('.');
  const extra = numbers[seriesLength];
  if (match[2] !== undefined) {
    if (extra !== undefined && extra !== 0) return undefined;
    return { tag, series, seriesNumbers, kind: 'rc', number: Number(match[2]) };
  }
  if (extra === undefined || extra === 0) return { tag, series, seriesNumbers, kind: 'release', number: 0 };
  return { tag, series, seriesNumbers, kind: 'stable', number: extra };
}

export function compareSeries(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? -1) - (b[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
}

/** Orders versions of a series: rc1 < rc2 < … < release < stable 1 < stable 2 … */
export function compareVersions(a: Version, b: Version): number {
  const bySeries = compareSeries(a.seriesNumbers, b.seriesNumbers);
  if (bySeries !== 0) return bySeries;
  const rank = (v: Version): number => (v.kind === 'rc' ? 0 : v.kind === 'release' ? 1 : 2);
  return rank(a) - rank(b) || a.number - b.number;
}
