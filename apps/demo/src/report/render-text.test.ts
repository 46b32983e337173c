import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { renderTable } from './render-text.js';
import { plainStyle } from './style.js';

describe('renderTable', () => {
  it('aligns numbers right and text left', () => {
    const table = renderTable([{ header: 'Developer' }, { header: 'Changesets' }], [['Mark Brown', 281], ['Al Viro', 200]], plainStyle);
    expect(table.split('\n')).toEqual([
      'Developer   Changesets',
      '----------  ----------',
      'Mark Brown         281',
      'Al Viro            200',
    ]);
  });

  it('keeps every row the same width as its header line', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.string({ maxLength: 12 }).filter((s) => !s.includes('\n')), fc.nat()), { maxLength: 20 }), (rows) => {
        const lines = renderTable([{ header: 'Name', align: 'left' }, { header: 'N', align: 'right' }], rows, plainStyle).split('\n');
        const width = lines[1]?.length ?? 0;
        for (const line of lines.slice(2)) expect(line.length).toBeLessThanOrEqual(width);
      }),
    );
  });
});
