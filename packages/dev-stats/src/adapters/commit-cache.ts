import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { CommitRecord, Trailer, TrailerKind } from '../model.js';

/** Where parsed commits are kept between runs, keyed by commit id. */
export interface CommitCache {
  get(id: string): CommitRecord | undefined;
  put(commit: CommitRecord): void;
  /** Writes what `put` collected. */
  flush(): void;
}

type Row = [string, 0 | 1, string, string, string, number, number, [TrailerKind, string, string][]];

const KINDS = new Set<string>(['signoff', 'review', 'test', 'report', 'report-test']);

function decode(line: string): CommitRecord | undefined {
  try {
    const row = JSON.parse(line) as unknown;
    if (!Array.isArray(row) || row.length !== 8) return undefined;
    const [id, merge, authorName, authorEmail, date, added, removed, trailers] = row as Row;
    if (typeof id !== 'string' || typeof added !== 'number' || typeof removed !== 'number' || !Array.isArray(trailers)) return undefined;
    const list: Trailer[] = [];
    for (const [kind, name, email] of trailers) {
      if (!KINDS.has(kind)) return undefined;
      list.push({ kind, name, email });
    }
    return { id, merge: merge === 1, authorName, authorEmail, date, added, removed, trailers: list };
  } catch {
    return undefined;
  }
}

function encode(commit: CommitRecord): string {
  const row: Row = [
    commit.id, commit.merge ? 1 : 0, commit.authorName, commit.authorEmail, commit.date, commit.added, commit.removed,
    commit.trailers.map((t) => [t.kind, t.name, t.email]),
  ];
  return JSON.stringify(row);
}

/**
 * An append-only file of one JSON array per commit. Commits are raw (before mailmap and
 * gitdm maps), so changing the maps never stales the cache; a commit id names its
 * contents forever, so entries never need invalidating. Unreadable lines are skipped.
 */
export class FileCommitCache implements CommitCache {
  private readonly entries = new Map<string, CommitRecord>();
  private pending: string[] = [];
  private writable = true;

  constructor(readonly path: string) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      return;
    }
    for (const line of text.split('\n')) {
      if (line === '') continue;
      const commit = decode(line);
      if (commit !== undefined) this.entries.set(commit.id, commit);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  get(id: string): CommitRecord | undefined {
    return this.entries.get(id);
  }

  put(commit: CommitRecord): void {
    if (this.entries.has(commit.id)) return;
    this.entries.set(commit.id, commit);
    this.pending.push(encode(commit));
    if (this.pending.length >= 5000) this.flush();
  }

  flush(): void {
    if (this.pending.length === 0 || !this.writable) return;
    try {
      mkdirSync(dirname(this.path), { recursive: true });
      appendFileSync(this.path, `${this.pending.join('\n')}\n`);
    } catch {
      // A read-only repository still gets its statistics, just without a cache.
      this.writable = false;
    }
    this.pending = [];
  }
}
