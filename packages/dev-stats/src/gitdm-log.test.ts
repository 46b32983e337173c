import { describe, expect, it } from 'vitest';
import { GitdmLogParser, parseLogDate } from './gitdm-log.js';
import type { CommitRecord } from './model.js';

function parse(text: string): CommitRecord[] {
  const out: CommitRecord[] = [];
  const parser = new GitdmLogParser((c) => out.push(c));
  for (const line of text.split('\n')) parser.line(line);
  parser.end();
  return out;
}

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);

describe('gitdm log formats', () => {
  it('reads dates in git default and ISO formats, in the author time zone', () => {
    expect(parseLogDate('   Sat Mar 3 23:30:00 2012 -0800')).toBe('2012-03-03');
    expect(parseLogDate(' 2012-03-03 23:30:00 -0800')).toBe('2012-03-03');
    expect(parseLogDate('whenever')).toBeUndefined();
  });

  it('counts hunk lines in -p output, including content that starts with -- or ++', () => {
    const log = [
      `commit ${A} (HEAD -> main)`,
      'Author: Ann <ann@x.example>',
      'Date:   Sat Mar 3 10:00:00 2012 +0000',
      '',
      '    Subject',
      '    ',
      '    Signed-off-by: Ann <ann@x.example>',
      '',
      'diff --git a/f b/f',
      '--- a/f',
      '+++ b/f',
      '@@ -1,3 +1,3 @@',
      ' keep',
      '--- removed dashes',
      '+++ added pluses',
      '\\ No newline at end of file',
      'diff --git a/logo.png b/logo.png',
      'Binary files a/logo.png and b/logo.png differ',
      `commit ${B} ${C} ${A}`,
      'Author: Ann <ann@x.example>',
      'Date:   Sat Mar 3 11:00:00 2012 +0000',
      '',
      '    Merge (recognised from --parents output)',
    ].join('\n');
    const [first, second] = parse(log);
    expect(first).toMatchObject({ id: A, merge: false, added: 1, removed: 1, date: '2012-03-03' });
    expect(first?.trailers).toEqual([{ kind: 'signoff', name: 'Ann', email: 'ann@x.example' }]);
    expect(second?.merge).toBe(true);
  });

  it('rejects text that is not a log, naming the line', () => {
    expect(() => parse('\nhello')).toThrow(expect.objectContaining({ code: 'DEV_STATS_BAD_LOG', message: expect.stringContaining('line 2') as string }));
  });
});
