import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from './cli.js';
import { type FixtureRepo, buildStoryRepo } from './fixture-repo.test-support.js';

let repo: FixtureRepo;
let scratch: string;

beforeAll(() => {
  repo = buildStoryRepo();
  scratch = mkdtempSync(join(tmpdir(), 'dev-stats-cli-'));
}, 60_000);

afterAll(() => {
  repo.remove();
});

async function run(args: readonly string[], stdin?: string, tty = false): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, {
    stdout: { write: (text: string) => (out += text) },
    stderr: { write: (text: string) => (err += text), isTTY: tty },
    ...(stdin === undefined ? {} : { stdin: Readable.from([Buffer.from(stdin)]) }),
    today: () => '2012-03-05',
    writeFile: (path, text) => {
      writeFileSync(path, text);
      return Promise.resolve();
    },
  });
  return { code, out, err };
}

function oneLine(err: string): void {
  expect(err.endsWith('\n')).toBe(true);
  expect(err.trimEnd().split('\n')).toHaveLength(1);
  expect(err).not.toMatch(/\n\s+at /);
}

describe('dev-stats CLI', () => {
  it('prints the tables for a range', async () => {
    const { code, out, err } = await run(['-C', repo.dir, '--no-cache', '-n', '2', 'v1.0..v1.1']);
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toContain('Most active developers (v1.0..v1.1)');
    // --top 2 keeps two rows per table.
    expect(out).toContain(
      [
        'By changesets                          By changed lines',
        '  Bob Hacker               2  33.3%      Alice Liddell           15  55.6%',
        '  Alice Liddell            2  33.3%      Bob Hacker               5  18.5%',
        '',
        'By lines removed',
      ].join('\n'),
    );
  });

  it.each([
    ['not a repository', ['-C', join(tmpdir(), 'dev-stats-missing'), 'HEAD'], 1],
    ['unknown revision', ['--no-cache', '-C', '<repo>', 'v0.9..v1.1'], 1],
    ['unreadable log', ['--log', join(tmpdir(), 'dev-stats-no-such.log')], 1],
    ['bad --top', ['-C', '<repo>', '--top', 'lots'], 2],
    ['unknown format', ['-C', '<repo>', '--format', 'pdf'], 2],
  ])('%s: one line on stderr and a non-zero exit', async (_what, args, expected) => {
    const { code, err } = await run(args.map((a) => (a === '<repo>' ? repo.dir : a)));
    expect(code).toBe(expected);
    oneLine(err);
  });

  it('malformed config: one line naming file:line', async () => {
    const config = join(scratch, 'gitdm.config');
    writeFileSync(config, 'EmailMap map\n');
    writeFileSync(join(scratch, 'map'), 'ok.example OK\nbroken\n');
    const { code, err } = await run(['-C', repo.dir, '--no-cache', '--config', config]);
    expect(code).toBe(1);
    oneLine(err);
    expect(err).toContain('map:2:');
  });

  it('a log that is not a log: one line', async () => {
    const { code, err } = await run(['--log', '-'], 'hello\nworld\n');
    expect(code).toBe(1);
    oneLine(err);
  });

  it('shows a progress line only when stderr is a terminal', async () => {
    const quiet = await run(['-C', repo.dir, '--no-cache', 'v1.0..v1.1']);
    expect(quiet.err).toBe('');
    const loud = await run(['-C', repo.dir, '--no-cache', 'v1.0..v1.1'], undefined, true);
    expect(loud.err).toContain('\rdev-stats: 7 commits read');
    expect(loud.out).toBe(quiet.out);
  });

  it('limits by date with --since/--until', async () => {
    const { out } = await run(['-C', repo.dir, '--no-cache', '--since', '2012-02-01', '--until', '2012-02-28', '-f', 'json', 'v1.1']);
    const report = JSON.parse(out) as { totals: { changesets: number }; period: unknown };
    // Carol's rename (2012-02-10) and Alice's trim (2012-02-20).
    expect(report.totals.changesets).toBe(2);
    expect(report.period).toEqual({ from: '2012-02-10', to: '2012-02-20' });
  });

  it('empty range: empty report, exit 0', async () => {
    const { code, out } = await run(['-C', repo.dir, '--no-cache', '--format', 'json', 'v1.1..v1.1']);
    expect(code).toBe(0);
    expect((JSON.parse(out) as { totals: { changesets: number } }).totals.changesets).toBe(0);
  });

  it('writes every format, and the release status as of --now', async () => {
    for (const format of ['markdown', 'csv', 'json', 'html']) {
      const { code, out } = await run(['-C', repo.dir, '--no-cache', '--format', format, 'v1.0..v1.1']);
      expect(code, format).toBe(0);
      expect(out, format).toContain('Alice Liddell');
    }
    const release = await run(['release', '-C', repo.dir, '--now', '2012-03-05']);
    expect(release.code).toBe(0);
    expect(release.out).toContain('The last release was 1.1 on 2012-03-02, 3 days ago.');
  });
});
