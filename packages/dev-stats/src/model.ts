/** The credit lines gitdm reads from a commit message. */
export type TrailerKind = 'signoff' | 'review' | 'test' | 'report' | 'report-test';

export interface Trailer {
  readonly kind: TrailerKind;
  readonly name: string;
  readonly email: string;
}

/**
 * One commit as the parsers hand it to the aggregator: identities as written in the
 * commit (mailmap is applied later), the author date as `YYYY-MM-DD` in the author's
 * own time zone (what gitdm uses for dated employer changes), and line counts.
 */
export interface CommitRecord {
  readonly id: string;
  readonly merge: boolean;
  readonly authorName: string;
  readonly authorEmail: string;
  readonly date: string;
  readonly added: number;
  readonly removed: number;
  readonly trailers: readonly Trailer[];
}

/**
 * The record a parser emits when a commit closes: the header it collected and the line
 * counts it settled on. Fields are copied one by one so parser state never reaches the
 * aggregator or the cache.
 */
export function closeCommit(head: Omit<CommitRecord, 'added' | 'removed'>, added: number, removed: number): CommitRecord {
  const { id, merge, authorName, authorEmail, date, trailers } = head;
  return { id, merge, authorName, authorEmail, date, added, removed, trailers };
}
