// The history the gitdm comparison runs on: every rule where gitdm and a careful reading
// could part ways (identity by address then name, first name kept, names gitdm captures
// with a trailing quote, an author name that is an address, a 30-character name, a bare
// Reported-by, trailers outside the mailmap, an alias, dated, grouped and virtual
// employers, equal counts, a merge carrying credits, a binary file and a rename).
// `pnpm --filter @kernsim/dev-stats exec tsx src/gitdm-mode/make-gitdm-fixture.ts DIR`
// writes it to DIR (see fixtures/README.md for regenerating the expected output).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FixtureRepo, type Person } from '../fixture-repo.test-support.js';

const LINUS: Person = { name: 'Linus Torvalds', email: 'torvalds@linux-foundation.org' };
const ALICE: Person = { name: 'Alice Liddell', email: 'alice@example.com' };
const ALICE_OLD: Person = { name: 'Alice Liddell', email: 'alice@old.example.org' };
const BOB: Person = { name: 'Bob Hacker', email: 'bob@hacker.net' };
const BOB_OLD: Person = { name: 'Robert Hacker', email: 'bob@old-hacker.net' };
const CAROL: Person = { name: 'Carol Cook', email: 'carol@carol.org' };
const DAVE_OLD: Person = { name: 'Dave D.', email: 'dave@old.io' };
const EVE: Person = { name: 'eve@evil.example', email: 'eve@evil.example' };
const LONG: Person = { name: 'Bartholomew Fitzgerald-Smythe', email: 'bart@shared.example' };
const ZOE: Person = { name: 'Zoë Ångström', email: 'zoe@beta.example' };

export const GITDM_FIXTURE_CONFIG: Readonly<Record<string, string>> = {
  'gitdm.config': [
    '# gitdm configuration of the comparison fixture',
    'EmailAliases aliases',
    'VirtualEmployer Shared Work',
    '  50% Alpha Corp',
    '  30% Beta Corp',
    'end',
    'EmailMap emailmap',
    'GroupMap carolgroup Carol Corp',
    '',
  ].join('\n'),
  aliases: 'bob@old-hacker.net bob@hacker.net\n',
  emailmap: [
    'example.com        Wonderland Inc. < 2012-02-01',
    'example.com        Looking Glass Ltd.',
    'bob@hacker.net     (None)',
    'linux-foundation.org Linux Foundation',
    'shared.example     Shared Work',
    'beta.example       Beta Corp',
    '',
  ].join('\n'),
  carolgroup: 'carol@carol.org\n',
};

const lines = (prefix: string, count: number): string => Array.from({ length: count }, (_, i) => `${prefix}${i}\n`).join('');

/** Builds the repository; commits are a minute apart so git's log order is fixed. */
export function buildGitdmFixture(): FixtureRepo {
  const repo = new FixtureRepo();
  let minute = 0;
  const at = (day: string): string => `${day}T10:${String(minute++).padStart(2, '0')}:00+0000`;
  const commit = (who: Person, day: string, message: string): void => {
    repo.git(['add', '-A']);
    const when = at(day);
    repo.git(['commit', '-q', '--allow-empty', '-m', message], {
      GIT_AUTHOR_NAME: who.name, GIT_AUTHOR_EMAIL: who.email, GIT_AUTHOR_DATE: when,
      GIT_COMMITTER_NAME: LINUS.name, GIT_COMMITTER_EMAIL: LINUS.email, GIT_COMMITTER_DATE: when,
    });
  };
  repo.write('.mailmap', 'Dave Diver <dave@unknown.io> <dave@old.io>\n');
  commit(LINUS, '2012-01-02', 'Add mailmap\n\nSigned-off-by: Linus Torvalds <torvalds@linux-foundation.org>');
  repo.write('a.txt', lines('a', 12));
  commit(ALICE_OLD, '2012-01-05', 'Add a\n\nSigned-off-by: Alice Liddell <alice@old.example.org>\nReviewed-by: Bob Hacker <bob@hacker.net>\nSigned-off-by: Linus Torvalds <torvalds@linux-foundation.org>');
  repo.write('a.txt', lines('b', 4) + lines('x', 8));
  repo.write('logo.bin', new Uint8Array([0, 1, 2, 0, 255, 0, 10, 0]));
  commit(BOB_OLD, '2012-01-10', 'Tweak a\n\nSigned-off-by: Robert Hacker <bob@old-hacker.net>\nSigned-off-by: Alice Liddell <alice@example.com>\nTested-by: Carol Cook <carol@carol.org>');
  repo.git(['mv', 'a.txt', 'c.txt']);
  commit(CAROL, '2012-01-20', 'Rename a\n\nReported-by: syzbot+1234@syzkaller.appspotmail.com\nReported-by: Dave Diver <dave@old.io>\nSigned-off-by: "Carol Cook" <carol@carol.org>');
  repo.write('d.txt', lines('d', 3));
  commit(DAVE_OLD, '2012-02-03', 'Add d\n\nSigned-off-by: Dave D. <dave@old.io>\nReported-and-tested-by: Eve <eve@evil.example>');
  repo.write('e.txt', lines('e', 2));
  commit(EVE, '2012-02-05', 'Add e\n\nSigned-off-by: eve@evil.example <eve@evil.example>');
  repo.write('c.txt', lines('c', 3));
  commit(ALICE, '2012-02-10', 'Trim c\n\nSigned-off-by: Alice Liddell <alice@example.com>\nSigned-off-by: Bob Hacker <bob@hacker.net>\nReviewed-by: Zoë Ångström <zoe@beta.example>');
  repo.git(['checkout', '-q', '-b', 'topic']);
  repo.write('s.txt', lines('s', 7));
  commit(LONG, '2012-02-12', 'Add s\n\nSigned-off-by: Bartholomew Fitzgerald-Smythe <bart@shared.example>\nTested-by: Zoë Ångström <zoe@beta.example>');
  repo.write('z.txt', lines('z', 5));
  commit(ZOE, '2012-02-14', 'Add z\n\nSigned-off-by: Zoë Ångström <zoe@beta.example>\nSigned-off-by: Linus Torvalds <torvalds@linux-foundation.org>');
  repo.git(['checkout', '-q', 'main']);
  repo.write('n.txt', lines('n', 2));
  commit(BOB, '2012-02-15', 'Note\n\nSigned-off-by: Bob Hacker <bob@hacker.net>\nreviewed-by: Carol Cook <carol@carol.org>');
  const when = at('2012-02-16');
  repo.git(['merge', '-q', '--no-ff', '-m', 'Merge topic\n\nTested-by: Dave Diver <dave@unknown.io>', 'topic'], {
    GIT_AUTHOR_NAME: LINUS.name, GIT_AUTHOR_EMAIL: LINUS.email, GIT_AUTHOR_DATE: when,
    GIT_COMMITTER_NAME: LINUS.name, GIT_COMMITTER_EMAIL: LINUS.email, GIT_COMMITTER_DATE: when,
  });
  repo.tag('v1.0', '2012-02-16');
  return repo;
}

/** Writes the configuration files into `dir` and returns the path of its gitdm.config. */
export function writeGitdmFixtureConfig(dir: string): string {
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(GITDM_FIXTURE_CONFIG)) writeFileSync(join(dir, name), text);
  return join(dir, 'gitdm.config');
}
