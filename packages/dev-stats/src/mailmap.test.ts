import { describe, expect, it } from 'vitest';
import { StatsAccumulator } from './accumulator.js';
import { Attribution } from './attribution.js';
import { Mailmap } from './mailmap.js';
import { buildReport } from './report.js';

describe('mailmap', () => {
  const map = Mailmap.parse(
    [
      '# comment',
      'Proper Name <commit@x.example>',
      '<proper@x.example> <old@x.example>',
      'Ann Smith <ann@x.example> <ann@OLD.example>',
      'Bo <bo@x.example> bo <bo@shared.example>',
      'Not A Mapping Line',
      'Christopher Díaz <c@x.example> Christopher Diaz',
    ].join('\n'),
  );

  it('reads the forms git reads and ignores what it cannot', () => {
    expect(map.map('whoever', 'commit@x.example')).toEqual({ name: 'Proper Name', email: 'commit@x.example' });
    expect(map.map('Someone', 'OLD@x.example')).toEqual({ name: 'Someone', email: 'proper@x.example' });
    expect(map.map('A. Smith', 'ann@old.example')).toEqual({ name: 'Ann Smith', email: 'ann@x.example' });
    expect(map.map('Bo', 'bo@shared.example')).toEqual({ name: 'Bo', email: 'bo@x.example' });
    expect(map.map('Other', 'bo@shared.example')).toEqual({ name: 'Other', email: 'bo@shared.example' });
  });

  it('applies to credit lines as well as authors', () => {
    const acc = new StatsAccumulator(new Attribution(map));
    acc.add({
      id: '1', merge: false, authorName: 'Ann Smith', authorEmail: 'ann@x.example', date: '2012-01-01', added: 1, removed: 0,
      trailers: [{ kind: 'review', name: 'A. Smith', email: 'ann@old.example' }],
    });
    const report = buildReport(acc);
    expect(report.developers.find((t) => t.id === 'reviews')?.rows).toEqual([{ name: 'Ann Smith', count: 1, percent: 100 }]);
    expect(report.totals.developers).toBe(1);
  });
});
