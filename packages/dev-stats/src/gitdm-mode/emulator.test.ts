import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../cli.js';
import type { FixtureRepo } from '../fixture-repo.test-support.js';
import { parseGitdmConfig } from '../gitdm-config.js';
import { fixed1 } from '../render/format.js';
import { GitdmEmulator } from './emulator.js';
import { buildGitdmFixture, writeGitdmFixtureConfig } from './gitdm-fixture.test-support.js';

let repo: FixtureRepo;
let config: string;

beforeAll(() => {
  repo = buildGitdmFixture();
  config = writeGitdmFixtureConfig(mkdtempSync(join(tmpdir(), 'gitdm-config-')));
}, 60_000);

afterAll(() => {
  repo.remove();
});

const expected = (name: string): string => readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8');

async function devStats(args: readonly string[], stdin?: string): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, {
    stdout: { write: (text: string) => (out += text) },
    stderr: { write: (text: string) => (err += text) },
    ...(stdin === undefined ? {} : { stdin: Readable.from([Buffer.from(stdin)]) }),
    today: () => '2012-03-05',
    writeFile: () => Promise.reject(new Error('no files here')),
  });
  return { code, out, err };
}

function emulate(log: string, options: Partial<ConstructorParameters<typeof GitdmEmulator>[0]> = {}): string {
  const emulator = new GitdmEmulator({ today: '2012-03-05', ...options });
  for (const line of log.split('\n')) emulator.line(line);
  return emulator.end();
}

const commit = (id: string, author: string, date: string, body: readonly string[], files: readonly string[] = ['1\t0\tf']): string =>
  [`commit ${id}`, `Author: ${author}`, `Date:   ${date}`, '', ...body.map((l) => `    ${l}`), '', ...files, ''].join('\n');

describe('--gitdm: gitdm’s report byte for byte', () => {
  it('equals real gitdm on the fixture repository (git log --numstat -M | gitdm -n -u)', async () => {
    const { code, out, err } = await devStats(['--gitdm', '-C', repo.dir, '--config', config]);
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toBe(expected('expected-numstat.txt'));
  });

  it('equals real gitdm reading a saved `git log -p` with -s and -l 4', async () => {
    const log = repo.git(['log', '-p', '-M']);
    const { code, out } = await devStats(['--gitdm', '--log', '-', '--config', config, '--no-author-signoffs', '--top', '4'], log);
    expect(code).toBe(0);
    expect(out).toBe(expected('expected-patch-s-l4.txt'));
  });

  it('refuses the options gitdm has no counterpart for', async () => {
    for (const extra of [['-f', 'json'], ['--mailmap', '/dev/null'], ['--jobs', '2'], ['--cache-dir', '/tmp']]) {
      const { code, err } = await devStats(['--gitdm', '-C', repo.dir, ...extra]);
      expect(code).toBe(2);
      expect(err).toMatch(/^dev-stats: --gitdm .* takes no --/);
    }
  });
});

describe('gitdm identity and counting rules', () => {
  it('looks people up by address first, then by name, and shows the first name seen', () => {
    const log = [
      commit('a1', 'Ann Early <ann@one.example>', 'Thu Mar 1 10:00:00 2012 +0000', ['Signed-off-by: Ann Later <ann@one.example>']),
      commit('a2', 'Ann Early <ann@two.example>', 'Thu Mar 1 09:00:00 2012 +0000', ['Reported-by: bot@robots.example']),
    ].join('');
    const out = emulate(log);
    // One developer with both changesets, under the first name seen.
    expect(out).toContain('Developers with the most changesets\nAnn Early                    2 (100.0%)\n');
    expect(out).not.toContain('Ann Later');
    // A bare-address Reported-by: is a credit, with the address as the name.
    expect(out).toContain('Developers with the most report credits (total 1)\nbot@robots.example           1 (100.0%)\n');
  });

  it('keeps the trailing space gitdm captures, so a 25-character name pushes the count right', () => {
    const out = emulate(commit('b1', 'Abcdefghijklmnopqrstuvwxy <x@y.example>', 'Thu Mar 1 10:00:00 2012 +0000', []));
    expect(out).toContain('\nAbcdefghijklmnopqrstuvwxy     1 (100.0%)\n');
  });

  it('lists equal counts in the order the log met them, each table starting from the last', () => {
    const log = [
      commit('c1', 'Zed <z@z.example>', 'Thu Mar 1 10:00:00 2012 +0000', ['Reviewed-by: Abe <a@a.example>']),
      commit('c2', 'Abe <a@a.example>', 'Thu Mar 1 09:00:00 2012 +0000', [], ['5\t0\tf']),
      commit('c3', 'Mia <m@m.example>', 'Thu Mar 1 08:00:00 2012 +0000', [], ['5\t0\tf']),
    ].join('');
    const out = emulate(log, { top: 2 });
    expect(out).toContain('Developers with the most changesets\nZed                          1 (33.3%)\nAbe                          1 (33.3%)\n\n');
    expect(out).toContain('Developers with the most changed lines\nAbe                          5 (45.5%)\nMia                          5 (45.5%)\n\n');
  });

  it('gives a virtual employer’s truncated shares to the real ones and drops the rest', () => {
    const parsed = parseGitdmConfig('c', (file) => (file === 'c' ? 'VirtualEmployer V\n50% A\n30% B\nend\nEmailMap m\n' : 'v.example V\n'));
    const log = ['c1', 'c2', 'c3'].map((id) => commit(id, 'Vic <vic@v.example>', 'Thu Mar 1 10:00:00 2012 +0000', [])).join('');
    const out = emulate(log, { config: parsed });
    expect(out).toContain('Top changeset contributors by employer\nA                            1 (33.3%)\n\n');
  });

  it('reads numstat and patch logs of the same history alike, deciding from the log', () => {
    const numstat = repo.git(['log', '--numstat', '-M']);
    const patch = repo.git(['log', '-p', '-M']);
    const parsed = parseGitdmConfig('gitdm.config', (file) => readFileSync(join(config, '..', file), 'utf8'));
    expect(emulate(numstat, { config: parsed })).toBe(expected('expected-numstat.txt'));
    expect(emulate(patch, { config: parsed }).split('\n').slice(0, 4)).toEqual(expected('expected-numstat.txt').split('\n').slice(0, 4));
  });

  it('rounds percentages once, as printf does: an exact half goes to the even digit', () => {
    expect([0.25, 0.75, 1.25, 12.25, 33.35, 99.95].map(fixed1)).toEqual(['0.2', '0.8', '1.2', '12.2', '33.4', '100.0']);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100_000 }), fc.integer({ min: 1, max: 100_000 }), (count, total) => {
        const value = (count * 100) / total;
        const text = fixed1(value);
        expect(Math.abs(Number(text) - value)).toBeLessThanOrEqual(0.05 + 1e-9);
        if (!Number.isInteger(value * 4) || Number.isInteger(value * 2)) expect(text).toBe(value.toFixed(1));
      }),
    );
  });
});

describe('the regeneration recipe', () => {
  it('builds the same history the expected files were made from', () => {
    const numstat = execFileSync('git', ['-C', repo.dir, 'log', '--numstat', '-M', '--format=%an|%s'], { encoding: 'utf8' });
    expect(numstat).toContain('Bartholomew Fitzgerald-Smythe|Add s');
    expect(expected('expected-numstat.txt')).toContain('Processed 10 csets from 8 developers\n');
  });
});
