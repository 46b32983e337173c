import { appendFileSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
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

/** The record layout; a line of another version is ignored (and dropped on the next write). */
export const CACHE_RECORD_VERSION = 2;
export const CACHE_FILE = `commits.v${CACHE_RECORD_VERSION}.jsonl`;

type Row = [string, 0 | 1, string, string, string, number, number, [TrailerKind, string, string][]];

const KINDS = new Set<string>(['signoff', 'review', 'test', 'report', 'report-test']);
const PREFIX = `${CACHE_RECORD_VERSION} `;
// "<version> <8 hex digits of FNV-1a over the JSON's bytes> <JSON>"
const JSON_AT = PREFIX.length + 9;
const ID = /^[0-9a-f]{4,64}$/;

/** FNV-1a (32 bits) over bytes: cheap, and enough to catch a damaged or cut line. */
function fnv1a(bytes: Uint8Array, start: number, end: number): number {
  let hash = 0x811c9dc5;
  for (let i = start; i < end; i++) {
    hash ^= bytes[i] ?? 0;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** The id of a well-formed record of this version with a matching checksum. */
function checkedId(bytes: Buffer, start: number, end: number): string | undefined {
  if (end - start < JSON_AT + 4 || bytes.toString('latin1', start, start + PREFIX.length) !== PREFIX || bytes[start + JSON_AT - 1] !== 0x20) return undefined;
  const sum = Number.parseInt(bytes.toString('latin1', start + PREFIX.length, start + JSON_AT - 1), 16);
  if (sum !== fnv1a(bytes, start + JSON_AT, end)) return undefined;
  const close = bytes.indexOf(0x22, start + JSON_AT + 2);
  if (bytes[start + JSON_AT] !== 0x5b || bytes[start + JSON_AT + 1] !== 0x22 || close < 0 || close > end) return undefined;
  const id = bytes.toString('latin1', start + JSON_AT + 2, close);
  return ID.test(id) ? id : undefined;
}

const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

function decode(json: string): CommitRecord | undefined {
  try {
    const row = JSON.parse(json) as unknown;
    if (!Array.isArray(row) || row.length !== 8) return undefined;
    const [id, merge, authorName, authorEmail, date, added, removed, trailers] = row as unknown[];
    if (typeof id !== 'string' || (merge !== 0 && merge !== 1) || typeof authorName !== 'string' || typeof authorEmail !== 'string') return undefined;
    if (typeof date !== 'string' || !isCount(added) || !isCount(removed) || !Array.isArray(trailers)) return undefined;
    const list: Trailer[] = [];
    for (const trailer of trailers as unknown[]) {
      if (!Array.isArray(trailer) || trailer.length !== 3) return undefined;
      const [kind, name, email] = trailer as unknown[];
      if (typeof kind !== 'string' || !KINDS.has(kind) || typeof name !== 'string' || typeof email !== 'string') return undefined;
      list.push({ kind: kind as TrailerKind, name, email });
    }
    return { id, merge: merge === 1, authorName, authorEmail, date, added, removed, trailers: list };
  } catch {
    return undefined;
  }
}

/** One cache line (without its newline) for a commit. */
export function encodeCacheRecord(commit: CommitRecord): string {
  const row: Row = [
    commit.id, commit.merge ? 1 : 0, commit.authorName, commit.authorEmail, commit.date, commit.added, commit.removed,
    commit.trailers.map((t) => [t.kind, t.name, t.email]),
  ];
  const json = Buffer.from(JSON.stringify(row), 'utf8');
  return `${PREFIX}${fnv1a(json, 0, json.length).toString(16).padStart(8, '0')} ${json.toString('utf8')}`;
}

/**
 * An append-only file of one checked record per commit. Commits are raw (before mailmap
 * and gitdm maps), so changing the maps never stales the cache, and a commit id names its
 * contents forever. A record of another version, with a wrong checksum, or that does not
 * decode is ignored; an id recorded twice with different contents is corruption and both
 * are ignored. Such commits are read from git again, and the next write rebuilds the file
 * from the good records (written beside it, then renamed over it).
 */
export class FileCommitCache implements CommitCache {
  // The file stays as bytes; the index maps an id to where its JSON starts (about 100
  // bytes of heap per commit). Records are decoded only when asked for.
  private readonly bytes: Buffer;
  private readonly index = new Map<string, number>();
  private readonly added = new Set<string>();
  private pending: string[] = [];
  private writable = true;
  /** Records were dropped: the next flush rewrites the file instead of appending. */
  private damaged = false;

  constructor(readonly path: string) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch {
      bytes = Buffer.alloc(0);
    }
    this.bytes = bytes;
    const conflicted = new Set<string>();
    for (let start = 0; start < bytes.length; ) {
      let end = bytes.indexOf(10, start);
      if (end < 0) end = bytes.length;
      const id = checkedId(bytes, start, end);
      // Checked in full now (a record that decodes to another id or to nothing is damage
      // too), so `get` never has to drop a record later.
      if (id === undefined || conflicted.has(id) || decode(bytes.toString('utf8', start + JSON_AT, end))?.id !== id) {
        this.damaged = true;
      } else {
        const known = this.index.get(id);
        if (known === undefined) {
          this.index.set(id, start + JSON_AT);
        } else {
          this.damaged = true;
          if (!bytes.subarray(known, this.lineEnd(known)).equals(bytes.subarray(start + JSON_AT, end))) {
            this.index.delete(id);
            conflicted.add(id);
          }
        }
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
    const at = this.index.get(id);
    if (at === undefined) return undefined;
    return decode(this.bytes.toString('utf8', at, this.lineEnd(at)));
  }

  put(commit: CommitRecord): void {
    // A range lists each commit once, so a commit is put at most once per run.
    if (this.index.has(commit.id) || this.added.has(commit.id)) return;
    this.added.add(commit.id);
    this.pending.push(encodeCacheRecord(commit));
    if (this.pending.length >= 5000) this.flush();
  }

  flush(): void {
    if ((this.pending.length === 0 && !this.damaged) || !this.writable) return;
    try {
      mkdirSync(dirname(this.path), { recursive: true });
      if (this.damaged) this.rewrite();
      else appendFileSync(this.path, `${this.pending.join('\n')}\n`);
    } catch {
      // A read-only repository still gets its statistics, just without a cache.
      this.writable = false;
    }
    this.pending = [];
  }

  private lineEnd(at: number): number {
    const end = this.bytes.indexOf(10, at);
    return end < 0 ? this.bytes.length : end;
  }

  /**
   * Writes the file again: the records the index trusts (all checked when the file was
   * read, so this happens at most once, at the first flush), then `pending`.
   */
  private rewrite(): void {
    const lines = [...this.index.values()].map((at) => this.bytes.toString('utf8', at - JSON_AT, this.lineEnd(at)));
    lines.push(...this.pending);
    const temporary = join(dirname(this.path), `.${basename(this.path)}.${process.pid}.tmp`);
    try {
      writeFileSync(temporary, lines.length === 0 ? '' : `${lines.join('\n')}\n`);
      renameSync(temporary, this.path);
    } catch (error) {
      try {
        unlinkSync(temporary);
      } catch {
        // Nothing was written.
      }
      throw error;
    }
    this.damaged = false;
  }
}
