// One changeset read line by line the way gitdm reads it: the first pattern that matches
// a line decides what it is, and every person named is looked up at once (so the order of
// lines decides gitdm's hacker and employer order).
import { DevStatsError } from '../errors.js';
import { parseLogDate } from '../gitdm-log.js';
import type { GitdmDatabase, GitdmHacker } from './database.js';

// gitdm's person pattern: the name is everything up to "<", a trailing space included.
const PERSON = String.raw`\s+"?([^<]+)"?\s*<([^>]+)>`;
const AUTHOR = new RegExp(`^Author:${PERSON}$`);
const SIGNOFF = new RegExp(`^\\s+signed-off-by:${PERSON}`, 'i');
const REVIEW = new RegExp(`^\\s+reviewed-by:${PERSON}`, 'i');
const TEST = new RegExp(`^\\s+tested-by:${PERSON}`, 'i');
const REPORT = new RegExp(`^\\s+reported-by:${PERSON}`, 'i');
/** A bare address (syzbot's form): the address is also the name. */
const REPORT_BARE = /^\s+reported-by:\s+(.+@.+)\s*$/i;
const REPORT_TEST = new RegExp(`^\\s+reported-and-tested-by:${PERSON}`, 'i');
const DATE = /^(?:Commit)?Date:\s+(.*)$/;
// gitdm reads lines with their newline, so "+" alone is an added (empty) line.
const ADDED = /^\+(?:[^+]|$)/;
const REMOVED = /^-(?:[^-]|$)/;
const NUMSTAT = /^(\d+|-)\s+(\d+|-)\s+(.*)$/;
const SVN_TAG = /^svn path=\/tags\/(.*)\/?; revision=([0-9]+)$/;
export const COMMIT_LINE = /^commit ([0-9a-f ]+)/;

export interface GitdmChangeset {
  merge: boolean;
  added: number;
  removed: number;
  author: GitdmHacker;
  email: string;
  date: string | undefined;
  readonly sobs: [email: string, hacker: GitdmHacker][];
  readonly reviews: GitdmHacker[];
  readonly testers: GitdmHacker[];
  readonly reporters: GitdmHacker[];
}

/** gitdm skips commits made on Subversion tags by a bad conversion. */
export function isSvnTag(lines: readonly string[]): boolean {
  return lines.some((line) => SVN_TAG.test(line.trim()));
}

function person(match: RegExpExecArray): [name: string, email: string] {
  return [match[1] ?? '', match[2] ?? ''];
}

/** Reads one changeset (its lines after the `commit` line). */
export function grabChangeset(lines: readonly string[], db: GitdmDatabase, numstat: boolean, authorSobs: boolean): GitdmChangeset {
  const p: GitdmChangeset = {
    merge: false, added: 0, removed: 0, author: db.lookupStore('Unknown hacker', 'unknown@hacker.net'), email: 'unknown@hacker.net',
    date: undefined, sobs: [], reviews: [], testers: [], reporters: [],
  };
  for (const line of lines) {
    let m = AUTHOR.exec(line);
    if (m !== null) {
      const [name, email] = person(m);
      p.email = db.remapEmail(email);
      p.author = db.lookupStore(name, p.email);
      continue;
    }
    if ((m = SIGNOFF.exec(line)) !== null) {
      const [name, raw] = person(m);
      const email = db.remapEmail(raw);
      const sobber = db.lookupStore(name, email);
      if (sobber !== p.author || authorSobs) p.sobs.push([email, db.lookupStore(name, raw)]);
      continue;
    }
    if ((m = REVIEW.exec(line)) !== null) {
      const [name, raw] = person(m);
      p.reviews.push(db.lookupStore(name, db.remapEmail(raw)));
      continue;
    }
    if ((m = TEST.exec(line)) !== null) {
      const [name, raw] = person(m);
      p.testers.push(db.lookupStore(name, db.remapEmail(raw)));
      p.author.testcred++;
      continue;
    }
    if ((m = REPORT.exec(line)) !== null) {
      const [name, raw] = person(m);
      p.reporters.push(db.lookupStore(name, db.remapEmail(raw)));
      p.author.repcred++;
      continue;
    }
    if ((m = REPORT_BARE.exec(line)) !== null) {
      const email = db.remapEmail(m[1] ?? '');
      p.reporters.push(db.lookupStore(email, email));
      p.author.repcred++;
      continue;
    }
    if ((m = REPORT_TEST.exec(line)) !== null) {
      const [name, raw] = person(m);
      const hacker = db.lookupStore(name, db.remapEmail(raw));
      p.reporters.push(hacker);
      p.testers.push(hacker);
      p.author.repcred++;
      p.author.testcred++;
      continue;
    }
    if (line.startsWith('Merge:')) {
      p.merge = true;
      continue;
    }
    if ((m = DATE.exec(line)) !== null) {
      const date = parseLogDate(m[1] ?? '');
      if (date === undefined) throw new DevStatsError('DEV_STATS_BAD_LOG', `unreadable date "${line}"`);
      // gitdm moves a date in the future to today ("Funky date").
      p.date = date > db.today ? db.today : date;
      continue;
    }
    if (numstat) {
      const counts = NUMSTAT.exec(line);
      // A binary file ("-") counts 0 for both numbers, as in gitdm.
      if (counts !== null && (counts[3] ?? '') !== '' && counts[1] !== '-' && counts[2] !== '-') {
        p.added += Number(counts[1]);
        p.removed += Number(counts[2]);
      }
    } else if (ADDED.test(line)) {
      p.added++;
    } else if (REMOVED.test(line)) {
      p.removed++;
    }
  }
  return p;
}
