import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { CommitRecord, Trailer, TrailerKind } from '../model.js';

/** Where parsed commits are kept between runs, keyed by commit id. */
export interface CommitCache {
  /** Whether `get(id)` would find the commit (without decoding it). */
  has(id: string): boolean;
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
  // The file stays as bytes; the index maps an id to where its line starts (about 100
  // bytes of heap per commit). Lines are decoded only when asked for.
  private readonly bytes: Buffer;
  private readonly index = new Map<string, number>();
  private pending: string[] = [];
  private writable = true;

  constructor(readonly path: string) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch {
      bytes = Buffer.alloc(0);
    }
    this.bytes = bytes;
    const quote = 0x22;
    for (let start = 0; start < bytes.length; ) {
      let end = bytes.indexOf(10, start);
      if (end < 0) end = bytes.length;
      if (bytes[start] === 0x5b && bytes[start + 1] === quote) {
        const close = bytes.indexOf(quote, start + 2);
        if (close > start + 2 && close < end) this.index.set(bytes.toString('latin1', start + 2, close), start);
      }
      start = end + 1;
    }
  }

  get size(): number {
    return this.index.size;
  }

  has(id: string): boolean {
    return this.index.has(id);
  }

  get(id: string): CommitRecord | undefined {
    const start = this.index.get(id);
    if (start === undefined) return undefined;
    let end = this.bytes.indexOf(10, start);
    if (end < 0) end = this.bytes.length;
    const commit = decode(this.bytes.toString('utf8', start, end));
    if (commit?.id !== id) {
      // A damaged line is a miss: the commit is read from git again and rewritten.
      this.index.delete(id);
      return undefined;
    }
    return commit;
  }

  put(commit: CommitRecord): void {
    // A range lists each commit once, so a commit is put at most once per run.
    if (this.index.has(commit.id)) return;
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
