import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommitRecord } from '../model.js';
import { ALICE, BOB, CAROL, FixtureRepo } from '../fixture-repo.test-support.js';
import type { CommitCache } from './commit-cache.js';
import { collectStats } from './collect.js';
import { readRepoCommits } from './read-repo.js';

let repo: FixtureRepo;
let all: string[];
const byId = new Map<string, CommitRecord>();

class MemoryCache implements CommitCache {
  readonly entries = new Map<string, CommitRecord>();
  has(id: string): boolean {
    return this.entries.has(id);
  }
  get(id: string): CommitRecord | undefined {
    return this.entries.get(id);
  }
  put(commit: CommitRecord): void {
    this.entries.set(commit.id, commit);
  }
  flush(): void {
    // Nothing to write.
  }
}

beforeAll(async () => {
  repo = new FixtureRepo();
  const people = [ALICE, BOB, CAROL];
  for (let i = 0; i < 18; i++) {
    if (i === 9) repo.git(['checkout', '-q', '-b', 'side', 'HEAD~3']);
    if (i === 13) {
      repo.git(['checkout', '-q', 'main']);
      repo.git(['merge', '-q', '--no-ff', '-m', 'Merge side', 'side']);
    }
    repo.write(`f${i}.txt`, 'x\n'.repeat(i + 1));
    repo.commit(people[i % 3] ?? ALICE, `2012-01-${String(i + 1).padStart(2, '0')}`, `change ${i}`);
  }
  all = repo.git(['rev-list', 'main']).trim().split('\n');
  await readRepoCommits({ repo: repo.dir, revisions: ['main'], onCommit: (c) => byId.set(c.id, c) });
}, 60_000);

afterAll(() => {
  repo.remove();
});

describe('reading a range in parts', () => {
  it('emits every commit of the range exactly once, however it is split and whatever the cache holds', async () => {
    expect(byId.size).toBe(all.length);
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 8 }),
        fc.option(fc.array(fc.boolean(), { minLength: all.length, maxLength: all.length }), { nil: undefined }),
        fc.integer({ min: 0, max: 30 }),
        async (jobs, parts, cached, maxListedIds) => {
          let cache: MemoryCache | undefined;
          if (cached !== undefined) {
            cache = new MemoryCache();
            all.forEach((id, i) => {
              const commit = byId.get(id);
              if (cached[i] === true && commit !== undefined) cache?.put(commit);
            });
          }
          const got: CommitRecord[] = [];
          const positions = new Map<string, number>();
          await readRepoCommits({
            repo: repo.dir, revisions: ['main'], jobs, parts, maxListedIds, minCommitsPerPart: 1,
            onCommit: (c, position) => {
              got.push(c);
              positions.set(c.id, position);
            },
            ...(cache === undefined ? {} : { cache }),
          });
          expect(got.map((c) => c.id).sort()).toEqual([...all].sort());
          // Each commit's position is its place in git's order for the range, whatever
          // part or cache it came from (ties in the tables follow it).
          expect(all.map((id) => positions.get(id))).toEqual(all.map((_, i) => i));
          for (const commit of got) expect(commit).toEqual(byId.get(commit.id));
          if (cache !== undefined) expect(cache.entries.size).toBe(all.length);
        },
      ),
      { numRuns: 8 },
    );
  });

  it('keeps names that are not valid UTF-8 (read as Latin-1)', async () => {
    const tree = repo.git(['rev-parse', 'HEAD^{tree}']).trim();
    const head = repo.git(['rev-parse', 'HEAD']).trim();
    const raw = Buffer.concat([
      Buffer.from(`tree ${tree}\nparent ${head}\nauthor J`),
      Buffer.from([0xfc]),
      Buffer.from('rgen <jm@x.example> 1325419200 +0000\ncommitter C <c@x.example> 1325419200 +0000\n\nLatin-1 name\n\nSigned-off-by: Fran'),
      Buffer.from([0xe7]),
      Buffer.from('ois <f@x.example>\n'),
    ]);
    const id = repo.git(['hash-object', '-t', 'commit', '-w', '--stdin', '--literally'], {}, raw).trim();
    const { accumulator } = await collectStats({ repo: repo.dir, revisions: [`${head}..${id}`] });
    expect([...accumulator.identities.keys()].sort()).toEqual(['François\0f@x.example', 'Jürgen\0jm@x.example']);
  });
});
