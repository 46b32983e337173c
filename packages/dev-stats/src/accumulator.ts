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
  /**
   * Where each identity and employer was first met in the log: the commit's position in
   * the log × 4096 + the line's place in the commit (author 0, then its trailers). Tables
   * keep this order between equal counts, as gitdm does, whatever order the commits
   * arrived in (parallel parts, the cache).
   */
  readonly identityOrder = new Map<string, number>();
  readonly employerOrder = new Map<string, number>();
  private readonly countAuthorSignoffs: boolean;
  private nextPosition = 0;

  constructor(
    readonly attribution: Attribution,
    options: AccumulatorOptions = {},
  ) {
    this.countAuthorSignoffs = options.countAuthorSignoffs ?? true;
  }

  /** Counts one commit; `position` is its place in the log (default: after the last one added). */
  add(commit: CommitRecord, position: number = this.nextPosition): void {
    this.nextPosition = Math.max(this.nextPosition, position + 1);
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
    const seen = position * 4096;
    this.meet(this.identityOrder, authorKey, seen);
    const person = this.identityCounts(authorKey);
    person.changesets++;
    person.added += commit.added;
    person.removed += commit.removed;
    person.changed += changed;
    const employerName = attribution.employer(author.email, commit.date);
    this.meet(this.employerOrder, employerName, seen);
    const employer = this.employerCounts(employerName);
    employer.changesets++;
    employer.added += commit.added;
    employer.removed += commit.removed;
    employer.changed += changed;
    employer.authors.add(authorKey);
    commit.trailers.forEach((trailer, index) => {
      const who = attribution.identity(trailer.name, trailer.email);
      const key = identityKey(who.name, who.email);
      this.meet(this.identityOrder, key, seen + Math.min(index + 1, 4095));
      const counts = this.identityCounts(key);
      switch (trailer.kind) {
        case 'signoff': {
          const own = who.email === author.email || who.name === author.name;
          if (own && !this.countAuthorSignoffs) break;
          counts.signoffs++;
          const signer = attribution.employer(who.email, commit.date);
          this.meet(this.employerOrder, signer, seen + Math.min(index + 1, 4095));
          this.employerCounts(signer).signoffs++;
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
    });
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
    this.nextPosition = Math.max(this.nextPosition, other.nextPosition);
    for (const [key, order] of other.identityOrder) this.meet(this.identityOrder, key, order);
    for (const [name, order] of other.employerOrder) this.meet(this.employerOrder, name, order);
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

  private meet(order: Map<string, number>, key: string, at: number): void {
    const known = order.get(key);
    if (known === undefined || at < known) order.set(key, at);
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
