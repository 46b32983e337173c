// Builds small real git repositories for tests: fixed identities and dates, no user config.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface Person {
  readonly name: string;
  readonly email: string;
}

export class FixtureRepo {
  readonly dir: string;

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'dev-stats-fixture-'));
    this.git(['init', '-q', '-b', 'main']);
    this.git(['config', 'user.name', 'Fixture Committer']);
    this.git(['config', 'user.email', 'committer@fixture.test']);
    this.git(['config', 'commit.gpgsign', 'false']);
  }

  git(args: readonly string[], env: Readonly<Record<string, string>> = {}, input?: string | Buffer): string {
    return execFileSync('git', [...args], {
      cwd: this.dir,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: this.dir,
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_AUTHOR_DATE: '2012-01-01T00:00:00+0000',
        GIT_COMMITTER_DATE: '2012-01-01T00:00:00+0000',
        ...env,
      },
      ...(input === undefined ? {} : { input }),
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
  }

  write(path: string, contents: string | Uint8Array): void {
    const full = join(this.dir, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, contents);
  }

  /** Commits everything staged or changed, as `author` on `date` (YYYY-MM-DD). */
  commit(author: Person, date: string, message: string): string {
    this.git(['add', '-A']);
    const when = `${date}T12:00:00+0000`;
    this.git(['commit', '-q', '--allow-empty', '-m', message], {
      GIT_AUTHOR_NAME: author.name,
      GIT_AUTHOR_EMAIL: author.email,
      GIT_AUTHOR_DATE: when,
      GIT_COMMITTER_NAME: author.name,
      GIT_COMMITTER_EMAIL: author.email,
      GIT_COMMITTER_DATE: when,
    });
    return this.git(['rev-parse', 'HEAD']).trim();
  }

  tag(name: string, date: string): void {
    this.git(['tag', '-a', '-m', name, name], { GIT_COMMITTER_DATE: `${date}T12:00:00+0000` });
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export const ALICE_OLD: Person = { name: 'Alice Liddell', email: 'alice@old.example.org' };
export const ALICE: Person = { name: 'Alice Liddell', email: 'alice@example.com' };
export const BOB: Person = { name: 'Bob Hacker', email: 'bob@hacker.net' };
export const CAROL: Person = { name: 'Carol Cook', email: 'carol@carol.org' };
export const DAVE: Person = { name: 'Dave Diver', email: 'dave@unknown.io' };

export const EMAIL_MAP = [
  '# gitdm EmailMap: [user@]domain Employer [< yyyy-mm-dd]',
  'example.com      Wonderland Inc. < 2012-02-01',
  'example.com      Looking Glass Ltd.',
  'bob@hacker.net   (None)',
  'carol.org        Carol Corp   # a comment',
  '',
].join('\n');

const lines = (prefix: string, from: number, to: number): string[] => {
  const out: string[] = [];
  for (let i = from; i <= to; i++) out.push(`${prefix}${i}`);
  return out;
};

/**
 * The history the statistics tests count by hand (see dev-stats.test.ts):
 * six changesets by four people, a binary file, a pure rename, dashes and pluses at the
 * start of content lines, a mailmapped old address, a dated employer change and a merge.
 */
export function buildStoryRepo(): FixtureRepo {
  const repo = new FixtureRepo();
  repo.write('.mailmap', 'Alice Liddell <alice@example.com> <alice@old.example.org>\n');
  repo.git(['add', '.mailmap']);
  repo.commit(ALICE, '2011-12-31', 'Add mailmap');
  repo.tag('v1.0', '2011-12-31');
  repo.write('a.txt', `${lines('a', 1, 10).join('\n')}\n`);
  repo.commit(ALICE_OLD, '2012-01-10', 'Add a\n\nSigned-off-by: Alice Liddell <alice@example.com>\nReviewed-by: Bob Hacker <bob@hacker.net>');
  const a = lines('a', 1, 10);
  a[2] = 'b3';
  a[3] = 'b4';
  repo.write('a.txt', `${a.join('\n')}\n`);
  repo.write('logo.bin', new Uint8Array([0, 1, 2, 0, 255, 0, 10, 0]));
  repo.commit(BOB, '2012-01-15', 'Tweak a\n\nSigned-off-by: Bob Hacker <bob@hacker.net>\nSigned-off-by: Alice Liddell <alice@example.com>');
  repo.git(['mv', 'a.txt', 'c.txt']);
  repo.write('notes.txt', 'note1\n-- dashes\n++ plus\nnote4\n');
  repo.commit(
    CAROL,
    '2012-02-10',
    'Rename a\n\nReported-by: Dave Diver <dave@unknown.io>\nTested-by: Bob Hacker <bob@hacker.net>\nSigned-off-by: Carol Cook <carol@carol.org>',
  );
  repo.write('c.txt', `${a.slice(0, 5).join('\n')}\n`);
  repo.commit(ALICE, '2012-02-20', 'Trim c\n\nSigned-off-by: Alice Liddell <alice@example.com>\nSigned-off-by: Carol Cook <carol@carol.org>');
  repo.git(['checkout', '-q', '-b', 'topic']);
  repo.write('d.txt', 'd1\nd2\nd3\n');
  repo.commit(DAVE, '2012-03-01', 'Add d\n\nSigned-off-by: Dave Diver <dave@unknown.io>');
  repo.git(['checkout', '-q', 'main']);
  repo.write('notes.txt', 'note1\n');
  repo.commit(BOB, '2012-03-01', 'Note\n\nSigned-off-by: Bob Hacker <bob@hacker.net>');
  repo.git(['merge', '-q', '--no-ff', '-m', 'Merge topic', 'topic'], {
    GIT_AUTHOR_NAME: CAROL.name,
    GIT_AUTHOR_EMAIL: CAROL.email,
    GIT_AUTHOR_DATE: '2012-03-02T12:00:00+0000',
    GIT_COMMITTER_NAME: CAROL.name,
    GIT_COMMITTER_EMAIL: CAROL.email,
    GIT_COMMITTER_DATE: '2012-03-02T12:00:00+0000',
  });
  repo.tag('v1.1', '2012-03-02');
  return repo;
}
