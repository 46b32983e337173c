import { describe, expect, it } from 'vitest';
import { StatsAccumulator } from '../accumulator.js';
import { Attribution } from '../attribution.js';
import { buildReport, type StatsReport } from '../report.js';
import { buildTrend } from '../trend.js';
import { renderReport, renderTrend } from './index.js';

const EVIL = `<script>alert("x")</script> O'Brien & "Sons"`;

function evilReport(): StatsReport {
  const acc = new StatsAccumulator(new Attribution());
  acc.add({
    id: '1', merge: false, authorName: EVIL, authorEmail: 'evil@x.example', date: '2012-01-01', added: 3, removed: 1,
    trailers: [{ kind: 'review', name: 'Pipe | Star *md*', email: 'p@x.example' }],
  });
  acc.add({ id: '2', merge: false, authorName: 'Plain, Name', authorEmail: 'plain@x.example', date: '2012-01-02', added: 1, removed: 0, trailers: [] });
  return buildReport(acc, { title: '<b>range</b>' });
}

describe('output formats', () => {
  it('escapes every author string in the HTML page (tables and SVG labels)', () => {
    const html = renderReport(evilReport(), 'html');
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<b>range</b>');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; O&#39;Brien &amp; &quot;Sons&quot;');
    expect(html.match(/<svg /g)?.length).toBeGreaterThan(0);
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<(script|link|img)\b/);
  });

  it('escapes Markdown table syntax and quotes CSV fields', () => {
    const markdown = renderReport(evilReport(), 'markdown');
    expect(markdown).toContain('Pipe \\| Star \\*md\\*');
    expect(markdown).toContain('\\<script\\>');
    const csv = renderReport(evilReport(), 'csv').split('\r\n');
    expect(csv[0]).toBe('group,table,rank,name,count,percent,total');
    expect(csv).toContain('developers,changesets,2,"Plain, Name",1,50.00,2');
    expect(csv).toContain(`developers,changesets,1,"${EVIL.replace(/"/g, '""')}",1,50.00,2`);
  });

  it('emits the versioned JSON schema', () => {
    const json = JSON.parse(renderReport(evilReport(), 'json')) as StatsReport;
    expect(json.schema).toBe('dev-stats/1');
    expect(json.developers.map((t) => t.id)).toEqual([
      'changesets', 'changed-lines', 'lines-removed', 'signoffs', 'reviews', 'tests', 'reports', 'test-credits-given', 'report-credits-given',
    ]);
    expect(json.employers.map((t) => t.id)).toEqual(['changesets', 'changed-lines', 'signoffs', 'developers']);
  });

  it('draws the volunteer trend: each employer share per release', () => {
    const trend = buildTrend([
      { release: 'v1', report: evilReport() },
      { release: 'v2', report: evilReport() },
    ]);
    expect(trend.employers).toEqual(['(Unknown)']);
    expect(trend.points.map((p) => p.shares['(Unknown)'])).toEqual([100, 100]);
    const html = renderTrend(trend, 'html');
    expect(html).toContain('<polyline');
    expect(renderTrend(trend, 'text')).toContain('Release  Changesets  Developers  Employers  (Unknown) %\nv1                2           2          1        100.0\nv2                2           2          1        100.0\n');
  });
});
