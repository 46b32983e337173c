import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkDateOption } from './date-option.js';
import { dayNumber } from './dates.js';
import { revisionArgs } from './adapters/read-repo.js';

describe('--since and --until', () => {
  it('pass the forms git reads unambiguously on to git', () => {
    for (const v of ['2012-03-19', '2012-03-19T10:30', '2012-03-19 10:30:59+01:00', '2024-02-29', '@1331942400', '2 weeks ago', '3.days.ago', 'now', 'yesterday']) {
      expect(checkDateOption('since', v)).toBe(v);
    }
    expect(revisionArgs({ since: '2012-01-01', until: '1 year ago' })).toEqual(['--since=2012-01-01', '--until=1 year ago', '--end-of-options', 'HEAD', '--']);
  });

  it('refuse what git would silently read as now or roll over into another month', () => {
    for (const v of ['notadate', '2020-13-45', '2023-02-29', '2012-03-19T25:00', 'last tuesday', '', 'xyz 2020']) {
      expect(() => checkDateOption('since', v)).toThrow(expect.objectContaining({ code: 'DEV_STATS_BAD_OPTION' }));
    }
    expect(() => revisionArgs({ until: '2020-02-30' })).toThrow(/--until must be a date/);
  });

  it('accept every calendar day, and dayNumber counts them without gaps', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 50_000 }), (day) => {
        const date = new Date(day * 86_400_000).toISOString().slice(0, 10);
        expect(checkDateOption('since', date)).toBe(date);
        expect(dayNumber(date)).toBe(day);
      }),
    );
    expect(() => dayNumber('2021-02-29')).toThrow(expect.objectContaining({ code: 'DEV_STATS_BAD_OPTION' }));
  });
});
