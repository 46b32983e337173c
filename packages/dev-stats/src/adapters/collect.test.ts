import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMAIL_MAP, type FixtureRepo, buildStoryRepo } from '../fixture-repo.test-support.js';
import { buildReport, type StatsReport, type Table } from '../report.js';
import { renderReport } from '../render/index.js';
import type { CommitRecord } from '../model.js';
import { CACHE_FILE, FileCommitCache, encodeCacheRecord } from './commit-cache.js';
import { collectStats } from './collect.js';

function recordId(line: string): string {
  return /^\d+ [0-9a-f]{8} \["([0-9a-f]+)"/.exec(line)?.[1] ?? '';
}

function decodeRecord(line: string): CommitRecord {
  const file = join(mkdtempSync(join(tmpdir(), 'dev-stats-one-')), 'c.jsonl');
  writeFileSync(file, `${line}\n`);
  const commit = new FileCommitCache(file).get(recordId(line));
  if (commit === undefined) throw new Error(`not a record: ${line}`);
  return commit;
}

/** A record with a right checksum around any JSON text. */
function encodeRaw(json: string): string {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(json)) hash = Math.imul(hash ^ byte, 0x01000193);
  return `2 ${(hash >>> 0).toString(16).padStart(8, '0')} ${json}`;
}

/** Every record of the cache file, each checked and decoded (throws on a bad one). */
function cacheRecords(dir: string): CommitRecord[] {
  return readFileSync(join(dir, CACHE_FILE), 'utf8').trimEnd().split('\n').map(decodeRecord);
}

let repo: FixtureRepo;
let configPath: string;

beforeAll(() => {
  repo = buildStoryRepo();
  const dir = mkdtempSync(join(tmpdir(), 'dev-stats-config-'));
  writeFileSync(join(dir, 'emailmap'), EMAIL_MAP);
  writeFileSync(join(dir, 'gitdm.config'), '# gitdm configuration\nEmailMap emailmap\n');
  configPath = join(dir, 'gitdm.config');
}, 60_000);

afterAll(() => {
  repo.remove();
});

function rows(table: Table | undefined): [string, number, number][] {
  return (table?.rows ?? []).map((row) => [row.name, row.count, row.percent]);
}

function byId(tables: readonly Table[], id: string): Table | undefined {
  return tables.find((table) => table.id === id);
}

async function storyReport(extra: Parameters<typeof collectStats>[0] = {}): Promise<StatsReport> {
  const { accumulator, config } = await collectStats({ repo: repo.dir, revisions: ['v1.0..v1.1'], config: configPath, ...extra });
  return buildReport(accumulator, { title: 'v1.0..v1.1', ...(config === undefined ? {} : { config }) });
}

describe('statistics of a fixture repository, counted by hand', () => {
  it('counts changesets and lines as LWN does (merges out, binary files 0, renames 0)', async () => {
    const report = await storyReport();
    expect(report.totals).toEqual({
      changesets: 6, merges: 1, developers: 4, employers: 5, added: 19, removed: 10, changed: 27, net: 9,
    });
    expect(report.period).toEqual({ from: '2012-01-10', to: '2012-03-01' });
  });

  it('ranks developers by changesets, changed lines and net removal, after the mailmap', async () => {
    const report = await storyReport();
    // Equal counts keep the order in which the log (newest first) met them, as in gitdm.
    expect(rows(byId(report.developers, 'changesets'))).toEqual([
      ['Bob Hacker', 2, 33.33],
      ['Alice Liddell', 2, 33.33],
      ['Dave Diver', 1, 16.67],
      ['Carol Cook', 1, 16.67],
    ]);
    expect(rows(byId(report.developers, 'changed-lines'))).toEqual([
      ['Alice Liddell', 15, 55.56],
      ['Bob Hacker', 5, 18.52],
      ['Carol Cook', 4, 14.81],
      ['Dave Diver', 3, 11.11],
    ]);
    expect(rows(byId(report.developers, 'lines-removed'))).toEqual([['Bob Hacker', 3, 30]]);
  });

  it('credits signoffs, reviews, tests and reports to the people named', async () => {
    const report = await storyReport();
    expect(rows(byId(report.developers, 'signoffs'))).toEqual([
      ['Alice Liddell', 3, 37.5],
      ['Bob Hacker', 2, 25],
      ['Carol Cook', 2, 25],
      ['Dave Diver', 1, 12.5],
    ]);
    expect(rows(byId(report.developers, 'reviews'))).toEqual([['Bob Hacker', 1, 100]]);
    expect(rows(byId(report.developers, 'tests'))).toEqual([['Bob Hacker', 1, 100]]);
    expect(rows(byId(report.developers, 'reports'))).toEqual([['Dave Diver', 1, 100]]);
    expect(rows(byId(report.developers, 'test-credits-given'))).toEqual([['Carol Cook', 1, 100]]);
    expect(rows(byId(report.developers, 'report-credits-given'))).toEqual([['Carol Cook', 1, 100]]);
  });

  it("leaves authors' own signoffs out on request", async () => {
    const report = await storyReport({ countAuthorSignoffs: false });
    expect(rows(byId(report.developers, 'signoffs'))).toEqual([
      ['Carol Cook', 1, 50],
      ['Alice Liddell', 1, 50],
    ]);
  });

  it('attributes employers by address and date (the dated change of employer)', async () => {
    const report = await storyReport();
    expect(rows(byId(report.employers, 'changesets'))).toEqual([
      ['(None)', 2, 33.33],
      ['(Unknown)', 1, 16.67],
      ['Looking Glass Ltd.', 1, 16.67],
      ['Carol Corp', 1, 16.67],
      ['Wonderland Inc.', 1, 16.67],
    ]);
    expect(rows(byId(report.employers, 'changed-lines'))).toEqual([
      ['Wonderland Inc.', 10, 37.04],
      ['(None)', 5, 18.52],
      ['Looking Glass Ltd.', 5, 18.52],
      ['Carol Corp', 4, 14.81],
      ['(Unknown)', 3, 11.11],
    ]);
    // Each table starts from the previous one's order (gitdm sorts one list in place).
    expect(rows(byId(report.employers, 'signoffs'))).toEqual([
      ['Wonderland Inc.', 2, 25],
      ['(None)', 2, 25],
      ['Carol Corp', 2, 25],
      ['Looking Glass Ltd.', 1, 12.5],
      ['(Unknown)', 1, 12.5],
    ]);
    expect(rows(byId(report.employers, 'developers'))).toEqual([
      ['Wonderland Inc.', 1, 20],
      ['(None)', 1, 20],
      ['Carol Corp', 1, 20],
      ['Looking Glass Ltd.', 1, 20],
      ['(Unknown)', 1, 20],
    ]);
  });

  it('prints the LWN-style text tables', async () => {
    const text = renderReport(await storyReport(), 'text');
    expect(text).toContain(
      [
        'By changesets                          By changed lines',
        '  Bob Hacker               2  33.3%      Alice Liddell           15  55.6%',
        '  Alice Liddell            2  33.3%      Bob Hacker               5  18.5%',
        '  Dave Diver               1  16.7%      Carol Cook               4  14.8%',
        '  Carol Cook               1  16.7%      Dave Diver               3  11.1%',
      ].join('\n'),
    );
    expect(text.startsWith('Processed 6 changesets from 4 developers; 5 employers found; 19 lines added, 10 removed (delta 9); 1 merges not counted\n')).toBe(true);
  });

  it('without the mailmap, the old address is another identity (same name: same developer) with an unknown employer', async () => {
    const empty = join(mkdtempSync(join(tmpdir(), 'dev-stats-mm-')), 'mailmap');
    writeFileSync(empty, '');
    const report = await storyReport({ mailmap: empty });
    expect(rows(byId(report.developers, 'changesets'))).toContainEqual(['Alice Liddell', 2, 33.33]);
    expect(rows(byId(report.employers, 'changesets'))).toContainEqual(['(Unknown)', 2, 33.33]);
  });

  it('reads the same numbers from saved `git log --numstat` and `git log -p` output', async () => {
    const reference = await storyReport();
    for (const flag of ['--numstat', '-p']) {
      const log = execFileSync('git', ['-C', repo.dir, 'log', flag, '-M', 'v1.0..v1.1'], { encoding: 'utf8' });
      const { accumulator, config } = await collectStats({ log: '-', stdin: Readable.from([Buffer.from(log)]), config: configPath, mailmap: join(repo.dir, '.mailmap') });
      const report = buildReport(accumulator, { title: 'v1.0..v1.1', ...(config === undefined ? {} : { config }) });
      expect(report, flag).toEqual(reference);
    }
  });

  it('gives an empty report for an empty range', async () => {
    const report = await storyReport({ revisions: ['v1.1..v1.1'] });
    expect(report.totals.changesets).toBe(0);
    expect(report.developers.every((table) => table.rows.length === 0)).toBe(true);
  });

  it('reads the same with several git processes and with the commit cache', async () => {
    const reference = await storyReport();
    const cacheDir = mkdtempSync(join(tmpdir(), 'dev-stats-cache-'));
    expect(await storyReport({ jobs: 3, parts: 4 })).toEqual(reference);
    expect(await storyReport({ jobs: 2, cache: cacheDir })).toEqual(reference);
    // The cache now holds the range's 7 commits (the merge included), one checked record each.
    expect(cacheRecords(cacheDir)).toHaveLength(7);
    // Second run: everything comes from the cache.
    expect(await storyReport({ jobs: 2, cache: cacheDir })).toEqual(reference);
  });

  // Each damage leaves the report right and the file rebuilt: one good record per commit.
  it.each<[string, (lines: string[]) => string[]]>([
    ['a record cut short', (lines) => [...lines.slice(0, 2), (lines[2] ?? '').slice(0, 60), ...lines.slice(3)]],
    ['a changed byte', (lines) => lines.map((line, i) => (i === 3 ? line.replace(/,(\d+),(\d+),\[/, (_, a: string, r: string) => `,${Number(a) + 1},${r},[`) : line))],
    ['a duplicate with other contents', (lines) => [...lines, encodeCacheRecord({ ...decodeRecord(lines[1] ?? ''), added: 999 })]],
    ['an identical duplicate', (lines) => [...lines, lines[4] ?? '']],
    ['a record of another version', (lines) => lines.map((line, i) => (i === 5 ? `1${line.slice(1)}` : line))],
    ['garbage lines', (lines) => ['not a record', ...lines, '{"half":']],
    ['a record that checks but does not decode', (lines) => lines.map((line, i) => (i === 0 ? encodeRaw(`["${recordId(line)}",1,2,3]`) : line))],
  ])('a damaged cache (%s) is ignored where damaged and rebuilt', async (_what, damage) => {
    const reference = await storyReport();
    const cacheDir = mkdtempSync(join(tmpdir(), 'dev-stats-cache-'));
    await storyReport({ cache: cacheDir });
    const file = join(cacheDir, CACHE_FILE);
    writeFileSync(file, `${damage(readFileSync(file, 'utf8').trimEnd().split('\n')).join('\n')}\n`);
    expect(await storyReport({ jobs: 2, cache: cacheDir })).toEqual(reference);
    const records = cacheRecords(cacheDir);
    expect(records).toHaveLength(7);
    expect(new Set(records.map((r) => r.id)).size).toBe(7);
    // The rebuilt file is what a fresh cache would have written.
    const fresh = mkdtempSync(join(tmpdir(), 'dev-stats-cache-'));
    await storyReport({ cache: fresh });
    expect(records.map(encodeCacheRecord).sort()).toEqual(readFileSync(join(fresh, CACHE_FILE), 'utf8').trimEnd().split('\n').sort());
    expect(await storyReport({ cache: cacheDir })).toEqual(reference);
  });

  it('reports an unknown revision and a missing repository with typed errors', async () => {
    await expect(storyReport({ revisions: ['v9.9..v1.1'] })).rejects.toMatchObject({ code: 'DEV_STATS_UNKNOWN_REVISION' });
    await expect(collectStats({ repo: join(tmpdir(), 'no-such-dir-dev-stats') })).rejects.toMatchObject({ code: 'DEV_STATS_NOT_A_REPOSITORY' });
    await expect(storyReport({ revisions: ['--output=/tmp/x'] })).rejects.toMatchObject({ code: 'DEV_STATS_UNKNOWN_REVISION' });
  });
});
