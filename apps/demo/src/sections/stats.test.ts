import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Block } from '../report/model.js';
import { statsSection } from './stats.js';

let repo: string;
let empty: string;
let config: string;

function git(dir: string, args: readonly string[], who = 'Ann Author <ann@corp.example>'): void {
  const [, name = '', email = ''] = /^(.*) <(.*)>$/.exec(who) ?? [];
  execFileSync('git', ['-C', dir, ...args], {
    env: {
      PATH: process.env.PATH ?? '', HOME: dir, GIT_CONFIG_NOSYSTEM: '1',
      GIT_AUTHOR_NAME: name, GIT_AUTHOR_EMAIL: email, GIT_COMMITTER_NAME: name, GIT_COMMITTER_EMAIL: email,
      GIT_AUTHOR_DATE: '2012-03-01T12:00:00+0000', GIT_COMMITTER_DATE: '2012-03-01T12:00:00+0000',
    },
  });
}

beforeAll(() => {
  repo = mkdtempSync(join(tmpdir(), 'kernsim-stats-'));
  git(repo, ['init', '-q', '-b', 'main']);
  writeFileSync(join(repo, 'a.txt'), 'a\nb\n');
  git(repo, ['add', '-A']);
  git(repo, ['commit', '-q', '-m', 'Add a\n\nSigned-off-by: Ann Author <ann@corp.example>\nReviewed-by: Rita Reviewer <rita@review.example>\nTested-by: Tom Tester <tom@test.example>\nReported-by: Rob Reporter <rob@report.example>\nSigned-off-by: Max Maintainer <max@kernel.example>']);
  empty = mkdtempSync(join(tmpdir(), 'kernsim-empty-'));
  git(empty, ['init', '-q', '-b', 'main']);
  const dir = mkdtempSync(join(tmpdir(), 'kernsim-config-'));
  writeFileSync(join(dir, 'map'), 'corp.example Corp Inc.\n');
  writeFileSync(join(dir, 'gitdm.config'), 'EmailMap map\n');
  config = join(dir, 'gitdm.config');
}, 60_000);

afterAll(() => {
  for (const dir of [repo, empty]) rmSync(dir, { recursive: true, force: true });
});

const titles = (blocks: readonly Block[]): string[] => blocks.flatMap((b) => (b.kind === 'table' && b.title !== undefined ? [b.title] : []));
const rowsOf = (blocks: readonly Block[], title: string): unknown[] => blocks.flatMap((b) => (b.kind === 'table' && b.title === title ? b.rows : []));

describe('kernsim stats', () => {
  it("counts this project's own history by default", async () => {
    const report = await statsSection.run({});
    const data = report.data as { report: { schema: string; totals: { changesets: number } } };
    expect(data.report.schema).toBe('dev-stats/1');
    expect(data.report.totals.changesets).toBeGreaterThan(0);
    expect(report.blocks.some((block) => block.kind === 'table')).toBe(true);
  });

  it('passes a format through and rejects a bad one', async () => {
    const report = await statsSection.run({ format: 'markdown', top: '3' });
    expect(report.blocks.some((block) => block.kind === 'pre' && block.text.includes('## Most active developers'))).toBe(true);
    await expect(statsSection.run({ format: 'pdf' })).rejects.toMatchObject({ code: 'KERNSIM_USAGE' });
  });

  it('shows the credit tables: signoffs, reviews, tests, reports and credits given', async () => {
    const report = await statsSection.run({ repo, range: 'HEAD', now: '2012-03-05' });
    expect(titles(report.blocks)).toEqual(expect.arrayContaining([
      'Most active developers: By signoffs',
      'Most active developers: By Reviewed-by',
      'Most active developers: By Tested-by',
      'Most active developers: By Reported-by',
      'Most active developers: Tested-by credits given',
      'Most active developers: Reported-by credits given',
      'Most active employers: By signoffs',
    ]));
    expect(rowsOf(report.blocks, 'Most active developers: By Reviewed-by')).toEqual([['Rita Reviewer', 1, '100.0%']]);
    // gitdm's order: the lines-removed table before it ranked Ann (net +2 lines) last.
    expect(rowsOf(report.blocks, 'Most active developers: By signoffs')).toEqual([['Max Maintainer', 1, '50.0%'], ['Ann Author', 1, '50.0%']]);
  });

  it('takes --no-author-signoffs and --config as the dev-stats CLI does', async () => {
    const report = await statsSection.run({ repo, range: 'HEAD', now: '2012-03-05', authorSignoffs: false, config });
    expect(rowsOf(report.blocks, 'Most active developers: By signoffs')).toEqual([['Max Maintainer', 1, '100.0%']]);
    expect(rowsOf(report.blocks, 'Most active employers: By changesets')).toEqual([['Corp Inc.', 1, '100.0%']]);
  });

  it('says an empty repository has no commits', async () => {
    await expect(statsSection.run({ repo: empty })).rejects.toMatchObject({
      code: 'DEV_STATS_NO_COMMITS',
      message: `the repository ${empty} has no commits yet`,
    });
  });

  it('rejects a --now that is not a real day', async () => {
    for (const now of ['tomorrow', '2012-02-30', '2012-3-1']) {
      await expect(statsSection.run({ repo, now })).rejects.toMatchObject({ code: 'KERNSIM_USAGE' });
    }
  });

  it('rejects a --since/--until git would silently read as now', async () => {
    await expect(statsSection.run({ repo, since: 'notadate' })).rejects.toMatchObject({ code: 'KERNSIM_USAGE', message: expect.stringContaining('--since') });
    await expect(statsSection.run({ repo, until: '2012-13-45' })).rejects.toMatchObject({ code: 'KERNSIM_USAGE' });
  });

  it("takes the dev-stats CLI's other options: --mailmap, --since/--until, --gitdm", async () => {
    const mailmap = join(mkdtempSync(join(tmpdir(), 'kernsim-mailmap-')), 'mailmap');
    writeFileSync(mailmap, 'Ann Canonical <ann@corp.example>\n');
    const mapped = await statsSection.run({ repo, now: '2012-03-05', mailmap });
    expect(rowsOf(mapped.blocks, 'Most active developers: By changesets')).toEqual([['Ann Canonical', 1, '100.0%']]);
    const none = await statsSection.run({ repo, now: '2012-03-05', since: '2012-03-02' });
    expect((none.data as { report: { totals: { changesets: number } } }).report.totals.changesets).toBe(0);
    const gitdm = await statsSection.run({ repo, now: '2012-03-05', gitdm: true });
    const block = gitdm.blocks.find((b) => b.kind === 'pre' && b.title === 'gitdm -n -u (dev-stats --gitdm)');
    expect(block?.kind === 'pre' ? block.text : '').toMatch(/^Processed 1 csets from 1 developers\n1 employers found\n/);
  });
});
