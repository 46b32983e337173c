import { describe, expect, it } from 'vitest';
import { releaseStatus } from './release.js';
import { renderReleaseStatus } from './render/index.js';
import { parseVersion } from './versions.js';

// Linux tags around the article (dates of the real releases).
const TAGS = [
  { tag: 'v2.6.39', date: '2011-05-18' },
  { tag: 'v3.0', date: '2011-07-21' },
  { tag: 'v3.1', date: '2011-10-24' },
  { tag: 'v3.2', date: '2012-01-04' },
  { tag: 'v3.3-rc1', date: '2012-01-19' },
  { tag: 'v3.3-rc5', date: '2012-02-25' },
  { tag: 'v3.3-rc6', date: '2012-03-03' },
  { tag: 'v3.2.9', date: '2012-02-29' },
  { tag: 'v2.6.32.58', date: '2012-03-04' },
  { tag: 'v3.4-rc1', date: '2012-03-31' },
  { tag: 'not-a-version', date: '2012-03-01' },
];

describe('release status', () => {
  it('reads kernel-style and git-style version tags', () => {
    expect(parseVersion('v2.6.32.58')).toMatchObject({ series: '2.6.32', kind: 'stable', number: 58 });
    expect(parseVersion('v3.3-rc6')).toMatchObject({ series: '3.3', kind: 'rc', number: 6 });
    expect(parseVersion('v2.40.0')).toMatchObject({ series: '2.40', kind: 'release' });
    expect(parseVersion('v2.40.0-rc1')).toMatchObject({ series: '2.40', kind: 'rc', number: 1 });
    expect(parseVersion('v1.2.3.4')).toBeUndefined();
  });

  it("says what the article's brief item says, as of its date", () => {
    const status = releaseStatus(TAGS, '2012-03-05');
    expect(status.current).toEqual({ series: '3.3', latestRc: 'v3.3-rc6', rcDate: '2012-03-03', rcs: 3 });
    expect(status.lastRelease).toEqual({ tag: 'v3.2', date: '2012-01-04', daysAgo: 61 });
    expect(status.cycles.map((c) => c.days)).toEqual([64, 95, 72]);
    // mean 77 days after 2012-01-04; spread = population sd of (64, 95, 72) = 13.1
    expect(status.prediction).toEqual({ date: '2012-03-21', spreadDays: 13, basedOnCycles: 3, meanDays: 77, overdueDays: 0 });
    expect(status.stable[0]).toEqual({ tag: 'v2.6.32.58', series: '2.6.32', date: '2012-03-04' });
    expect(status.stable[1]).toEqual({ tag: 'v3.2.9', series: '3.2', date: '2012-02-29' });
    const text = renderReleaseStatus(status, 'text');
    expect(text).toContain('The current development release is 3.3-rc6, released on 2012-03-03');
    expect(text).toContain('Stable updates: 2.6.32.58 (2012-03-04), 3.2.9 (2012-02-29).');
  });

  it('ignores tags dated after "now" (time is a parameter)', () => {
    const earlier = releaseStatus(TAGS, '2012-02-26');
    expect(earlier.current?.latestRc).toBe('v3.3-rc5');
    expect(earlier.stable).toEqual([]);
  });

  it('rejects a repository without version tags', () => {
    expect(() => releaseStatus([{ tag: 'foo', date: '2012-01-01' }], '2012-03-05')).toThrow(expect.objectContaining({ code: 'DEV_STATS_NO_RELEASES' }));
    // Release tags that all come after `now` are not reported as no tags at all.
    expect(() => releaseStatus([{ tag: 'v3.3', date: '2012-03-18' }, { tag: 'v3.2', date: '2012-01-04' }], '2011-12-01')).toThrow(
      expect.objectContaining({ code: 'DEV_STATS_NO_RELEASES', message: 'no release tag on or before 2011-12-01: the first of 2 is dated 2012-01-04' }),
    );
  });
});
