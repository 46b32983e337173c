import type { Attribution } from './attribution.js';
import type { CommitRecord } from './model.js';

/** Counts for one (name, e-mail) identity; developers are built from these at report time. */
export interface IdentityCounts {
  changesets: number;
  added: number;
  removed: number;
  changed: number;
  signoffs: number;
  reviews: number;
  tests: number;
  reports: number;
  testCreditsGiven: number;
  reportCreditsGiven: number;
}

export interface EmployerCounts {
  changesets: number;
  added: number;
  removed: number;
  changed: number;
  signoffs: number;
  /** Identity keys of the authors who worked for this employer. */
  readonly authors: Set<string>;
}

export interface AccumulatorOptions {
  /** Count a signoff by the changeset's own author (gitdm's default; its `-s` turns it off). */
  readonly countAuthorSignoffs?: boolean;
}

export function identityKey(name: string, email: string): string {
  return `${name}\0${email}`;
}

function emptyIdentity(): IdentityCounts {
  return {
    changesets: 0, added: 0, removed: 0, changed: 0, signoffs: 0, reviews: 0, tests: 0, reports: 0,
    testCreditsGiven: 0, reportCreditsGiven: 0,
  };
}

/**
 * Running totals over a stream of commits. Its size grows with identities and employers,
 * never with commits, and two accumulators over disjoint commits merge into exactly the
 * accumulator of their union (the order of commits does not matter).
 */
export class StatsAccumulator {
  changesets = 0;
  merges = 0;
  added = 0;
  removed = 0;
  changed = 0;
  firstDate: string | undefined;
  lastDate: string | undefined;
  readonly identities = new Map<string, IdentityCounts>();
  readonly employers = new Map<string, EmployerCounts>();
  private readonly countAuthorSignoffs: boolean;

  constructor(
    readonly attribution: Attribution,
    options: AccumulatorOptions = {},
  ) {
    this.countAuthorSignoffs = options.countAuthorSignoffs ?? true;
  }

  add(commit: CommitRecord): void {
    if (commit.merge) {
      this.merges++;
      return;
    }
    const attribution = this.attribution;
    const author = attribution.identity(commit.authorName, commit.authorEmail);
    const authorKey = identityKey(author.name, author.email);
    const changed = Math.max(commit.added, commit.removed);
    this.changesets++;
    this.added += commit.added;
    this.removed += commit.removed;
    this.changed += changed;
    if (commit.date !== '') {
      if (this.firstDate === undefined || commit.date < this.firstDate) this.firstDate = commit.date;
      if (this.lastDate === undefined || commit.date > this.lastDate) this.lastDate = commit.date;
    }
    const person = this.identityCounts(authorKey);
    person.changesets++;
    person.added += commit.added;
    person.removed += commit.removed;
    person.changed += changed;
    const employer = this.employerCounts(attribution.employer(author.email, commit.date));
    employer.changesets++;
    employer.added += commit.added;
    employer.removed += commit.removed;
    employer.changed += changed;
    employer.authors.add(authorKey);
    for (const trailer of commit.trailers) {
      const who = attribution.identity(trailer.name, trailer.email);
      const counts = this.identityCounts(identityKey(who.name, who.email));
      switch (trailer.kind) {
        case 'signoff': {
          const own = who.email === author.email || who.name === author.name;
          if (own && !this.countAuthorSignoffs) break;
          counts.signoffs++;
          this.employerCounts(attribution.employer(who.email, commit.date)).signoffs++;
          break;
        }
        case 'review':
          counts.reviews++;
          break;
        case 'test':
          counts.tests++;
          person.testCreditsGiven++;
          break;
        case 'report':
          counts.reports++;
          person.reportCreditsGiven++;
          break;
        case 'report-test':
          counts.tests++;
          counts.reports++;
          person.testCreditsGiven++;
          person.reportCreditsGiven++;
          break;
      }
    }
  }

  /** Adds another accumulator's counts (over other commits) into this one. */
  merge(other: StatsAccumulator): void {
    this.changesets += other.changesets;
    this.merges += other.merges;
    this.added += other.added;
    this.removed += other.removed;
    this.changed += other.changed;
    if (other.firstDate !== undefined && (this.firstDate === undefined || other.firstDate < this.firstDate)) this.firstDate = other.firstDate;
    if (other.lastDate !== undefined && (this.lastDate === undefined || other.lastDate > this.lastDate)) this.lastDate = other.lastDate;
    for (const [key, theirs] of other.identities) {
      const mine = this.identityCounts(key);
      for (const field of Object.keys(theirs) as (keyof IdentityCounts)[]) mine[field] += theirs[field];
    }
    for (const [name, theirs] of other.employers) {
      const mine = this.employerCounts(name);
      mine.changesets += theirs.changesets;
      mine.added += theirs.added;
      mine.removed += theirs.removed;
      mine.changed += theirs.changed;
      mine.signoffs += theirs.signoffs;
      for (const author of theirs.authors) mine.authors.add(author);
    }
  }

  private identityCounts(key: string): IdentityCounts {
    let counts = this.identities.get(key);
    if (counts === undefined) {
      counts = emptyIdentity();
      this.identities.set(key, counts);
    }
    return counts;
  }

  private employerCounts(name: string): EmployerCounts {
    let counts = this.employers.get(name);
    if (counts === undefined) {
      counts = { changesets: 0, added: 0, removed: 0, changed: 0, signoffs: 0, authors: new Set() };
      this.employers.set(name, counts);
    }
    return counts;
  }
}
