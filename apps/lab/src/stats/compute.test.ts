import { buildTrend } from '@kernsim/dev-stats';
import { describe, expect, it } from 'vitest';
import { computeStats } from './compute.js';

const commit = (id: string, name: string, date: string, numstat: string): string =>
  [`commit ${id.repeat(40)}`, `Author: ${name} <${id}@example.com>`, `Date:   ${date}`, '', '    subject', '', numstat, ''].join('\n');

const LOG = [
  commit('1', 'Ada', 'Mon Mar 5 10:00:00 2012 +0100', '10\t2\ta.c'),
  commit('2', 'Ada', 'Tue Apr 3 10:00:00 2012 +0100', '1\t1\tb.c'),
  commit('3', 'Linus "&" Torvalds', 'Wed Apr 4 10:00:00 2012 +0100', '5\t0\tc.c'),
].join('\n');

describe('computeStats', () => {
  it('reads a git log --numstat into the tables and a trend by month', () => {
    const d = computeStats('x.log', LOG);
    expect(d.report?.totals.changesets).toBe(3);
    expect(d.report?.developers.find((t) => t.id === 'changesets')?.rows.map((r) => [r.name, r.count])).toEqual([
      ['Ada', 2],
      ['Linus "&" Torvalds', 1],
    ]);
    expect(d.trend?.points.map((p) => [p.release, p.changesets])).toEqual([
      ['2012-03', 1],
      ['2012-04', 2],
    ]);
  });

  it('reads the JSON dev-stats writes, report or trend', () => {
    const report = computeStats('x.log', LOG).report!;
    expect(computeStats('r.json', JSON.stringify(report)).report).toEqual(report);
    const trend = buildTrend([{ release: 'v1', report }]);
    expect(computeStats('t.json', JSON.stringify(trend))).toEqual({ source: 't.json', report: undefined, trend });
  });

  it('says what it expected when the file is neither', () => {
    expect(() => computeStats('a.txt', 'hello\nworld\n')).toThrow(/^a\.txt: line 1: expected "commit <id>"/);
    expect(() => computeStats('e.log', '\n\n')).toThrow(/^e\.log: no commits found/);
    expect(() => computeStats('d.json', '{"schema":')).toThrow(/^d\.json: not valid JSON/);
    expect(() => computeStats('b.json', '{"schema":"other"}')).toThrow(/not a dev-stats report or trend.*found other/);
    expect(() => computeStats('c.json', '{"schema":"dev-stats/1","developers":[{"id":1}],"employers":[]}')).toThrow(/found dev-stats\/1/);
  });
});
