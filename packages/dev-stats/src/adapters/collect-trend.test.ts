import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOB, EMAIL_MAP, type FixtureRepo, buildStoryRepo } from '../fixture-repo.test-support.js';
import { collectTrend } from './collect-trend.js';

let repo: FixtureRepo;
let config: string;

beforeAll(() => {
  repo = buildStoryRepo();
  repo.write('e.txt', 'e\n');
  repo.commit(BOB, '2012-04-01', 'Add e\n\nSigned-off-by: Bob Hacker <bob@hacker.net>');
  repo.tag('v1.2', '2012-04-02');
  const dir = mkdtempSync(join(tmpdir(), 'dev-stats-trend-'));
  writeFileSync(join(dir, 'emailmap'), EMAIL_MAP);
  writeFileSync(join(dir, 'gitdm.config'), 'EmailMap emailmap\n');
  config = join(dir, 'gitdm.config');
}, 60_000);

afterAll(() => {
  repo.remove();
});

describe('trend over releases', () => {
  it('counts each cycle between consecutive release tags', async () => {
    const trend = await collectTrend({ repo: repo.dir, config, topEmployers: 2 });
    expect(trend.employers).toEqual(['(None)', '(Unknown)', 'Carol Corp']);
    expect(trend.points).toEqual([
      {
        release: 'v1.1', changesets: 6, developers: 4, employers: 5,
        shares: { '(None)': 33.33, '(Unknown)': 16.67, 'Carol Corp': 16.67 }, counts: { '(None)': 2, '(Unknown)': 1, 'Carol Corp': 1 },
      },
      {
        release: 'v1.2', changesets: 1, developers: 1, employers: 1,
        shares: { '(None)': 100, '(Unknown)': 0, 'Carol Corp': 0 }, counts: { '(None)': 1, '(Unknown)': 0, 'Carol Corp': 0 },
      },
    ]);
  });

  it('gives the same trend through the commit cache, cold and warm', async () => {
    const plain = await collectTrend({ repo: repo.dir, config, topEmployers: 2 });
    const cacheDir = mkdtempSync(join(tmpdir(), 'dev-stats-trend-cache-'));
    expect(await collectTrend({ repo: repo.dir, config, topEmployers: 2, cache: cacheDir, jobs: 2 })).toEqual(plain);
    expect(await collectTrend({ repo: repo.dir, config, topEmployers: 2, cache: cacheDir, jobs: 2 })).toEqual(plain);
  });

  it('needs two release tags', async () => {
    await expect(collectTrend({ repo: repo.dir, to: 'v1.0' })).rejects.toMatchObject({ code: 'DEV_STATS_NO_RELEASES' });
  });
});
