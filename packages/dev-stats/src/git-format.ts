import { DevStatsError } from './errors.js';
import { closeCommit } from './model.js';
import type { CommitRecord, Trailer } from './model.js';
import { parseNumstatLine } from './numstat-line.js';
import { parseTrailer } from './trailers.js';

/**
 * The `--format` dev-stats asks git for: a NUL-led header line (id, parents, author
 * name and e-mail as written, author date), the raw message closed by a NUL so a
 * message line can never be mistaken for a numstat line, then git's numstat lines.
 */
export const GIT_LOG_FORMAT = '%x00C%H%x00%P%x00%an%x00%ae%x00%as%x00%B%x00';

/** The `git log` arguments that go with {@link GIT_LOG_FORMAT} (a range is appended). */
export const GIT_LOG_ARGS: readonly string[] = [
  '-c',
  'core.quotePath=false',
  'log',
  '--numstat',
  '-M',
  '--no-color',
  '--encoding=UTF-8',
  `--format=${GIT_LOG_FORMAT}`,
];

interface Pending {
  id: string;
  merge: boolean;
  authorName: string;
  authorEmail: string;
  date: string;
  added: number;
  removed: number;
  trailers: Trailer[];
  inMessage: boolean;
}

/** Line-by-line parser of the {@link GIT_LOG_FORMAT} output; emits commits as they close. */
export class GitFormatParser {
  private current: Pending | undefined;
  private lineNumber = 0;

  constructor(private readonly emit: (commit: CommitRecord) => void) {}

  line(line: string): void {
    this.lineNumber++;
    const current = this.current;
    if (line.startsWith('\0C')) {
      this.flush();
      this.startCommit(line);
      return;
    }
    if (current === undefined) {
      if (line.trim() === '') return;
      throw new DevStatsError('DEV_STATS_BAD_LOG', `line ${this.lineNumber}: expected a commit header, found "${line.slice(0, 40)}"`);
    }
    if (current.inMessage) {
      this.messageLine(current, line);
      return;
    }
    const counts = parseNumstatLine(line);
    if (counts !== undefined) {
      current.added += counts.added;
      current.removed += counts.removed;
    } else if (line !== '') {
      throw new DevStatsError('DEV_STATS_BAD_LOG', `line ${this.lineNumber}: expected a numstat line or the next commit, found "${line.slice(0, 40)}"`);
    }
  }

  end(): void {
    if (this.current?.inMessage === true) {
      throw new DevStatsError('DEV_STATS_BAD_LOG', `line ${this.lineNumber}: the log ends inside the message of commit ${this.current.id.slice(0, 12)} (cut short?)`);
    }
    this.flush();
  }

  private startCommit(line: string): void {
    const fields = line.split('\0');
    // fields: '', 'C<id>', parents, name, email, date, first message piece [, '' if closed]
    if (fields.length < 7) {
      throw new DevStatsError('DEV_STATS_BAD_LOG', `line ${this.lineNumber}: truncated commit header`);
    }
    const parents = (fields[2] ?? '').trim();
    this.current = {
      id: (fields[1] ?? '').slice(1),
      merge: parents.includes(' '),
      authorName: fields[3] ?? '',
      authorEmail: fields[4] ?? '',
      date: fields[5] ?? '',
      added: 0,
      removed: 0,
      trailers: [],
      inMessage: true,
    };
    this.messageLine(this.current, fields.slice(6).join('\0'));
  }

  private messageLine(current: Pending, line: string): void {
    const close = line.indexOf('\0');
    const text = close < 0 ? line : line.slice(0, close);
    const trailer = parseTrailer(text);
    if (trailer !== undefined) current.trailers.push(trailer);
    if (close >= 0) current.inMessage = false;
  }

  private flush(): void {
    const current = this.current;
    if (current === undefined) return;
    this.current = undefined;
    this.emit(closeCommit(current, current.added, current.removed));
  }
}
