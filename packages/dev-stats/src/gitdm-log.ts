import { DevStatsError } from './errors.js';
import { closeCommit } from './model.js';
import type { CommitRecord, Trailer } from './model.js';
import { parseNumstatLine } from './numstat-line.js';
import { parseTrailer } from './trailers.js';

// `commit <id>`, with `--parents` also the parents' ids, then maybe ` (decorations)`.
const COMMIT = /^commit ([0-9a-f]{7,64})((?: [0-9a-f]{7,64})*)/;
const AUTHOR = /^Author:\s*(.*?)\s*<([^>]*)>/;
const MONTHS: Readonly<Record<string, string>> = {
  Jan: '01', Feb: '02', Mar: '03', Apr: '04', May: '05', Jun: '06',
  Jul: '07', Aug: '08', Sep: '09', Oct: '10', Nov: '11', Dec: '12',
};

type Section = 'header' | 'message' | 'files';

// What git may print between a commit's message and the next commit besides numstat
// lines and hunks: diff headers, mode and rename lines, binary notes, --summary lines.
const DIFF_LINE = /^(?:diff |index |--- |\+\+\+ |new file mode |deleted file mode |old mode |new mode |similarity index |dissimilarity index |rename from |rename to |copy from |copy to |Binary files |GIT binary patch| (?:create|delete) mode | rename | copy | mode change )/;

interface Pending {
  id: string;
  merge: boolean;
  authorName: string;
  authorEmail: string;
  date: string;
  numstatAdded: number;
  numstatRemoved: number;
  sawNumstat: boolean;
  patchAdded: number;
  patchRemoved: number;
  inHunk: boolean;
  /** Inside a `GIT binary patch` (base85 lines until the next diff). */
  inBinary: boolean;
  sawAuthor: boolean;
  trailers: Trailer[];
  section: Section;
}

/** `Date:` of git's default (`Thu Mar 1 10:00:00 2012 +0000`) or ISO formats, as YYYY-MM-DD. */
export function parseLogDate(text: string): string | undefined {
  const iso = /(\d{4})-(\d{2})-(\d{2})/.exec(text);
  if (iso !== null) return `${iso[1] ?? ''}-${iso[2] ?? ''}-${iso[3] ?? ''}`;
  const parts = text.trim().split(/\s+/);
  // [weekday] month day time year [zone]
  for (let i = 0; i + 3 < parts.length; i++) {
    const month = MONTHS[parts[i] ?? ''];
    const day = parts[i + 1] ?? '';
    const year = parts[i + 3] ?? '';
    if (month !== undefined && /^\d{1,2}$/.test(day) && /^\d{4}$/.test(year)) {
      return `${year}-${month}-${day.padStart(2, '0')}`;
    }
  }
  return undefined;
}

/**
 * Parser for the logs gitdm reads: `git log --numstat` or `git log -p` in git's default
 * ("medium") format. When a commit carries numstat lines those are its counts; otherwise
 * the `+`/`-` lines inside its diff hunks are counted.
 */
export class GitdmLogParser {
  private current: Pending | undefined;
  private lineNumber = 0;

  constructor(private readonly emit: (commit: CommitRecord) => void) {}

  line(line: string): void {
    this.lineNumber++;
    const commit = line.startsWith('commit ') ? COMMIT.exec(line) : null;
    if (commit !== null) {
      this.flush();
      this.current = {
        id: commit[1] ?? '',
        merge: (commit[2] ?? '').trim().split(' ').length > 1,
        authorName: '',
        authorEmail: '',
        date: '',
        numstatAdded: 0,
        numstatRemoved: 0,
        sawNumstat: false,
        patchAdded: 0,
        patchRemoved: 0,
        inHunk: false,
        inBinary: false,
        sawAuthor: false,
        trailers: [],
        section: 'header',
      };
      return;
    }
    const current = this.current;
    if (current === undefined) {
      if (line.trim() === '') return;
      throw new DevStatsError(
        'DEV_STATS_BAD_LOG',
        `line ${this.lineNumber}: expected "commit <id>" (git log --numstat or -p output), found "${line.slice(0, 40)}"`,
      );
    }
    switch (current.section) {
      case 'header':
        this.headerLine(current, line);
        return;
      case 'message':
        if (line.startsWith('    ') || line === '') {
          const trailer = parseTrailer(line);
          if (trailer !== undefined) current.trailers.push(trailer);
          return;
        }
        current.section = 'files';
        this.fileLine(current, line);
        return;
      case 'files':
        this.fileLine(current, line);
        return;
    }
  }

  end(): void {
    this.flush();
  }

  private bad(what: string): DevStatsError {
    return new DevStatsError('DEV_STATS_BAD_LOG', `line ${this.lineNumber}: ${what}`);
  }

  private headerLine(current: Pending, line: string): void {
    if (line === '') {
      current.section = 'message';
      return;
    }
    if (line.startsWith('Merge:')) {
      current.merge = true;
      return;
    }
    const author = AUTHOR.exec(line);
    if (author !== null) {
      current.authorName = author[1] ?? '';
      current.authorEmail = author[2] ?? '';
      current.sawAuthor = true;
      return;
    }
    if (line.startsWith('Date:') || line.startsWith('AuthorDate:')) {
      const date = parseLogDate(line.slice(line.indexOf(':') + 1));
      if (date === undefined) {
        throw new DevStatsError('DEV_STATS_BAD_LOG', `line ${this.lineNumber}: unreadable date "${line}"`);
      }
      current.date = date;
    }
  }

  private fileLine(current: Pending, line: string): void {
    if (line.startsWith('diff ')) {
      current.inHunk = false;
      current.inBinary = false;
      return;
    }
    if (current.inBinary) return;
    if (line.startsWith('@@')) {
      current.inHunk = true;
      return;
    }
    if (current.inHunk) {
      // Saved logs sometimes lose the space of empty context lines.
      if (line === '') return;
      const first = line.charCodeAt(0);
      if (first === 43 /* + */) current.patchAdded++;
      else if (first === 45 /* - */) current.patchRemoved++;
      else if (first !== 32 /* space */ && first !== 92 /* backslash */) current.inHunk = false;
      if (current.inHunk) return;
    }
    const counts = parseNumstatLine(line);
    if (counts !== undefined) {
      current.sawNumstat = true;
      current.numstatAdded += counts.added;
      current.numstatRemoved += counts.removed;
      return;
    }
    if (line.startsWith('GIT binary patch')) current.inBinary = true;
    // Anything else is not git's output: garbage appended to a log, or a damaged one.
    if (line !== '' && !DIFF_LINE.test(line)) {
      throw this.bad(`expected a numstat line, a diff or the next "commit <id>" in commit ${current.id.slice(0, 12)}, found "${line.slice(0, 40)}"`);
    }
  }

  private flush(): void {
    const current = this.current;
    if (current === undefined) return;
    if (current.section === 'header' || !current.sawAuthor || current.date === '') {
      // A commit that never got its Author:, Date: and the blank line after them was cut short.
      throw this.bad(`commit ${current.id.slice(0, 12)} ends before its header is complete (Author:, Date:, blank line): a cut-short log?`);
    }
    this.current = undefined;
    this.emit(
      closeCommit(
        current,
        current.sawNumstat ? current.numstatAdded : current.patchAdded,
        current.sawNumstat ? current.numstatRemoved : current.patchRemoved,
      ),
    );
  }
}
