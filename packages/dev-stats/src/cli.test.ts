import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileAtomic } from './adapters/write-file.js';
import { main } from './cli.js';
import { FixtureRepo, buildStoryRepo } from './fixture-repo.test-support.js';

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
    writeFile: writeFileAtomic,
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
    ['unknown option', ['-C', '<repo>', '--bogus'], 2],
    ['unknown log format', ['--log', '-', '--log-format', 'svn'], 2],
    ['--now not a date', ['release', '-C', '<repo>', '--now', 'tomorrow'], 2],
    ['--now not a real day', ['release', '-C', '<repo>', '--now', '2012-02-30'], 2],
    ['--jobs 0', ['-C', '<repo>', '--jobs', '0'], 2],
    ['--jobs 99999', ['-C', '<repo>', '--jobs', '99999'], 2],
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
    // git reads a typo as "now" and would print an empty report; dev-stats refuses it as bad usage.
    const typo = await run(['-C', repo.dir, '--no-cache', '--since', '2012-02-31', 'v1.1']);
    expect(typo.code).toBe(2);
    expect(typo.out).toBe('');
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

  it('writes -o files whole or not at all, and names the path when it cannot', async () => {
    const target = join(scratch, 'report.html');
    expect((await run(['-C', repo.dir, '--no-cache', '-f', 'html', '-o', target, 'v1.0..v1.1'])).code).toBe(0);
    expect(readFileSync(target, 'utf8')).toMatch(/^<!doctype html>[\s\S]*<\/html>\n$/);
    const directory = join(scratch, 'a-directory');
    mkdirSync(directory);
    const failed = await run(['-C', repo.dir, '--no-cache', '-o', directory, 'v1.0..v1.1']);
    expect(failed.code).toBe(1);
    expect(failed.err).toBe(`dev-stats: cannot write ${directory}: is a directory\n`);
    const missing = await run(['-C', repo.dir, '--no-cache', '-o', join(scratch, 'no-dir', 'r.txt'), 'v1.0..v1.1']);
    expect(missing.err).toBe(`dev-stats: cannot write ${join(scratch, 'no-dir', 'r.txt')}: no such file or directory\n`);
    // No temporary file is left behind.
    expect(readdirSync(scratch).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('says an empty repository has no commits', async () => {
    const empty = new FixtureRepo();
    const { code, err } = await run(['-C', empty.dir, '--no-cache']);
    expect(code).toBe(1);
    expect(err).toBe(`dev-stats: the repository ${empty.dir} has no commits yet\n`);
    expect((await run(['--gitdm', '-C', empty.dir])).err).toContain('has no commits yet');
    empty.remove();
  });
});

describe('names from outside never reach the terminal raw', () => {
  const OSC = '\u001b]0;pwned\u0007';
  const hostile = `Mallory ${OSC}\u009b2J Evil`;
  // Control characters a terminal acts on (newlines and CSV's CRLF aside).
  // eslint-disable-next-line no-control-regex
  const RAW = /[\u0000-\u0009\u000b\u000c\u000e-\u001f\u007f-\u009f]/;
  let evil: FixtureRepo;

  beforeAll(() => {
    evil = new FixtureRepo();
    evil.write('f.txt', 'x\n');
    evil.commit({ name: hostile, email: 'mallory@evil.example' }, '2012-01-01', `Evil\n\nReviewed-by: ${hostile} <r@evil.example>\nSigned-off-by: ${hostile} <mallory@evil.example>`);
    evil.tag('v1.0', '2012-01-02');
  }, 60_000);

  afterAll(() => {
    evil.remove();
  });

  it.each([
    ['text', '\\x1b]0;pwned\\x07\\x9b2J'],
    // Markdown escapes the backslash and bracket of the shown escape in turn; it renders as \x1b]0;…
    ['markdown', '\\\\x1b\\]0;pwned\\\\x07\\\\x9b2J'],
    ['csv', '\\x1b]0;pwned\\x07\\x9b2J'],
    ['html', '\\x1b]0;pwned\\x07\\x9b2J'],
  ])('%s output shows control characters as \\xNN', async (format, shown) => {
    const { code, out } = await run(['-C', evil.dir, '--no-cache', '-f', format]);
    expect(code).toBe(0);
    expect(out).not.toMatch(RAW);
    expect(out).toContain(shown);
  });

  it('--gitdm and the release and trend reports escape them too', async () => {
    const gitdm = await run(['--gitdm', '-C', evil.dir]);
    expect(gitdm.out).not.toMatch(RAW);
    expect(gitdm.out).toContain('\\x1b]0;pwned\\x07\\x9b2J');
    for (const args of [['release', '--now', '2012-03-01'], ['release', '-f', 'csv', '--now', '2012-03-01']]) {
      const { out } = await run([...args, '-C', evil.dir]);
      expect(out, args.join(' ')).not.toMatch(RAW);
    }
  });

  it('JSON keeps names exact', async () => {
    const { out } = await run(['-C', evil.dir, '--no-cache', '-f', 'json']);
    const report = JSON.parse(out) as { developers: { rows: { name: string }[] }[] };
    expect(report.developers[0]?.rows[0]?.name).toBe(hostile);
  });

  it('error messages quoting a config line, a log line or an option escape them', async () => {
    const config = join(scratch, 'evil.config');
    writeFileSync(config, `EmailMap evil.map\n`);
    writeFileSync(join(scratch, 'evil.map'), `${OSC}\n`);
    const cases = [
      await run(['-C', evil.dir, '--no-cache', '--config', config]),
      await run(['--log', '-'], `${OSC}\n`),
      await run([`--bogus${OSC}`]),
      await run(['--log', join(scratch, `missing${OSC}`)]),
    ];
    for (const { code, err } of cases) {
      expect(code).not.toBe(0);
      expect(err.slice(0, -1)).not.toMatch(RAW);
      expect(err).toContain('\\x1b]0;pwned\\x07');
    }
    // git's own messages are shown escaped too (git already turns the ESC into "?").
    const revision = await run(['-C', evil.dir, '--no-cache', `v9${OSC}`]);
    expect(revision.err.slice(0, -1)).not.toMatch(RAW);
  });
});

describe('the command the README documents', () => {
  it('runs through pnpm from the workspace root', () => {
    const readme = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');
    const documented = 'pnpm --filter @kernsim/dev-stats dev-stats -C /path/to/repo v1..v2';
    expect(readme).toContain(documented);
    const root = join(import.meta.dirname, '..', '..', '..');
    const args = documented.split(' ').slice(1).map((a) => (a === '/path/to/repo' ? repo.dir : a === 'v1..v2' ? 'v1.0..v1.1' : a));
    const out = execFileSync('pnpm', ['--silent', ...args, '--no-cache', '-f', 'json'], { cwd: root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    expect((JSON.parse(out) as { totals: { changesets: number } }).totals.changesets).toBe(6);
  }, 60_000);
});

describe('a standard output that cannot be written', () => {
  // The real process: Node reports a failed write to stdout as an event, not to `main`.
  function devStats(args: readonly string[], stdout: 'pipe' | number): Promise<{ code: number | null; err: string }> {
    const tsx = join(import.meta.dirname, '..', 'node_modules', '.bin', 'tsx');
    return new Promise((resolve, reject) => {
      const child = spawn(tsx, ['--conditions=@kernsim/source', join(import.meta.dirname, 'cli.ts'), ...args], { stdio: ['ignore', stdout, 'pipe'] });
      // A reader that is gone before the report is written, like `| head -1` with its line.
      child.stdout?.destroy();
      let err = '';
      child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
      child.on('error', reject);
      child.on('close', (code) => {
        resolve({ code, err });
      });
    });
  }

  it('a closed pipe (| head) ends quietly with exit 0', async () => {
    expect(await devStats(['-C', repo.dir, '--no-cache'], 'pipe')).toEqual({ code: 0, err: '' });
  }, 60_000);

  it.skipIf(!existsSync('/dev/full'))('a full disk (> /dev/full) is one line and exit 1, never a silent success', async () => {
    const fd = openSync('/dev/full', 'w');
    try {
      const r = await devStats(['-C', repo.dir, '--no-cache'], fd);
      expect(r.err).toBe('dev-stats: cannot write to standard output: no space left on the device\n');
      expect(r.code).toBe(1);
    } finally {
      closeSync(fd);
    }
  }, 60_000);
});
