import { execFileSync } from 'node:child_process';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FixtureRepo, buildStoryRepo } from '../fixture-repo.test-support.js';
import type { CommitRecord } from '../model.js';
import { readLogStream } from './read-log.js';

let repo: FixtureRepo;
const logs: Record<string, Buffer> = {};

beforeAll(() => {
  repo = buildStoryRepo();
  for (const flag of ['--numstat', '-p']) logs[flag] = execFileSync('git', ['-C', repo.dir, 'log', flag, '-M', 'v1.1'], { maxBuffer: 1 << 24 });
  logs['dev-stats'] = execFileSync('git', ['-C', repo.dir, 'log', '--numstat', '-M', '--format=%x00C%H%x00%P%x00%an%x00%ae%x00%as%x00%B%x00', 'v1.1']);
}, 60_000);

afterAll(() => {
  repo.remove();
});

async function read(bytes: Uint8Array): Promise<CommitRecord[]> {
  const out: CommitRecord[] = [];
  await readLogStream(Readable.from([Buffer.from(bytes)]), (c) => out.push(c));
  return out;
}

const lineNumber = (error: unknown): number => Number(/^line (\d+):/.exec(error instanceof Error ? error.message : '')?.[1] ?? NaN);

describe('saved logs that are cut short or carry garbage', () => {
  it.each(['--numstat', '-p', 'dev-stats'])('%s: a log cut inside a line is rejected with the line number', async (kind) => {
    const log = logs[kind] ?? Buffer.alloc(0);
    const whole = await read(log);
    expect(whole.length).toBeGreaterThan(5);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: log.length - 1 }), async (cut) => {
        const part = log.subarray(0, cut);
        if (part[part.length - 1] === 10) return; // a cut between lines: see the next test
        const error = await read(part).then(() => undefined, (e: unknown) => e);
        expect(error).toMatchObject({ code: 'DEV_STATS_BAD_LOG' });
        expect(lineNumber(error)).toBe(part.toString('latin1').split('\n').length);
      }),
      { numRuns: 60 },
    );
  });

  it.each(['--numstat', '-p'])('%s: a log cut between lines of a header is rejected; elsewhere it reads whole commits only', async (kind) => {
    const log = logs[kind] ?? Buffer.alloc(0);
    const lines = log.toString('utf8').split('\n');
    for (let keep = 1; keep < lines.length; keep++) {
      const part = Buffer.from(`${lines.slice(0, keep).join('\n')}\n`);
      const last = lines.slice(0, keep).reverse().find((line) => line.startsWith('commit ') || line === '' || /^(Author|Date|Merge):/.test(line));
      const result = await read(part).then((commits) => commits, (e: unknown) => e);
      if (Array.isArray(result)) {
        // Accepted: every commit it counted has its author and date.
        for (const commit of result as CommitRecord[]) expect(commit.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      } else {
        expect(result, `cut after line ${keep} (${last ?? ''})`).toMatchObject({ code: 'DEV_STATS_BAD_LOG' });
      }
      const inHeader = /^(commit |Author:|Date:|Merge:)/.test(lines[keep - 1] ?? '');
      if (inHeader) expect(Array.isArray(result), `cut after header line ${keep}`).toBe(false);
    }
  });

  it.each(['--numstat', '-p', 'dev-stats'])('%s: text after the last commit that git would not print is rejected', async (kind) => {
    const log = logs[kind] ?? Buffer.alloc(0);
    await fc.assert(
      fc.asyncProperty(fc.stringMatching(/^[a-zA-Z][a-zA-Z ,.!]{0,30}$/).filter((g) => !/^(diff|index|new|deleted|old|similarity|dissimilarity|rename|copy|Binary|GIT|commit)\b/.test(g)), async (garbage) => {
        const error = await read(Buffer.concat([log, Buffer.from(`${garbage}\n`)])).then(() => undefined, (e: unknown) => e);
        expect(error).toMatchObject({ code: 'DEV_STATS_BAD_LOG' });
        expect(lineNumber(error)).toBe(log.toString('utf8').split('\n').length);
      }),
      { numRuns: 30 },
    );
  });
});
