import { DevStatsError } from '../errors.js';
import type { GitdmConfig } from '../gitdm-config.js';
import { COMMIT_LINE, grabChangeset, isSvnTag, type GitdmChangeset } from './changeset.js';
import { GitdmDatabase } from './database.js';
import { gitdmReport } from './report.js';

export interface GitdmModeOptions {
  readonly config?: GitdmConfig;
  /** Count authors' signoffs of their own changesets (gitdm's default; `-s` turns it off). */
  readonly authorSignoffs?: boolean;
  /** gitdm's `-l`: entries looked at per table (default: all). */
  readonly top?: number;
  /** Today as YYYY-MM-DD: gitdm moves later dates to today and ends open employer spans a year on. */
  readonly today: string;
  /**
   * true: a `git log --numstat` log (gitdm -n); false: a `git log -p` log; undefined: the
   * first numstat or diff line of the log decides.
   */
  readonly numstat?: boolean;
}

const NUMSTAT_EVIDENCE = /^(?:\d+|-)\t(?:\d+|-)\t/;

/**
 * gitdm's report (`gitdm -u`, with `-n` for numstat logs) for a log fed line by line:
 * the same identities, employers, counts, order and bytes. What gitdm prints on stdout
 * besides the report (its warnings) comes first, as it does in gitdm's output.
 */
export class GitdmEmulator {
  private readonly db: GitdmDatabase;
  private numstat: boolean | undefined;
  private current: string[] | undefined;
  private readonly waiting: string[][] = [];
  private stopped = false;
  private readonly griped = new Set<string>();
  private readonly totals = { changesets: 0, added: 0, removed: 0, changed: 0 };

  constructor(private readonly options: GitdmModeOptions) {
    this.db = new GitdmDatabase(options.config, options.today);
    this.numstat = options.numstat;
  }

  line(line: string): void {
    if (line.startsWith('commit ')) {
      this.close();
      this.current = [line];
      return;
    }
    // gitdm skips whatever comes before the first commit.
    if (this.current === undefined) return;
    this.current.push(line);
    if (this.numstat === undefined) {
      if (line.startsWith('diff --git ') || line.startsWith('@@ ')) this.numstat = false;
      else if (NUMSTAT_EVIDENCE.test(line)) this.numstat = true;
    }
  }

  /** The report, as gitdm prints it on stdout. */
  end(): string {
    this.close();
    this.numstat ??= true;
    for (const lines of this.waiting.splice(0)) this.count(lines);
    this.db.mixVirtuals();
    const notes = this.db.notes.map((note) => `${note}\n`).join('');
    return notes + gitdmReport(this.db.hackers, [...this.db.employers.values()], this.totals, this.options.top ?? 999_999);
  }

  private close(): void {
    const lines = this.current;
    this.current = undefined;
    if (lines === undefined) return;
    // Changesets wait until the log shows whether it holds numstat lines or diffs.
    if (this.numstat === undefined) {
      this.waiting.push(lines);
      return;
    }
    for (const waiting of this.waiting.splice(0)) this.count(waiting);
    this.count(lines);
  }

  private count(lines: readonly string[]): void {
    if (this.stopped || isSvnTag(lines)) return;
    // A "commit" line gitdm cannot read ends its reading of the log.
    if (!COMMIT_LINE.test(lines[0] ?? '')) {
      this.stopped = true;
      return;
    }
    const p = grabChangeset(lines.slice(1), this.db, this.numstat === true, this.options.authorSignoffs ?? true);
    if (p.author.name.includes('@') && !this.griped.has(p.author.name)) {
      this.griped.add(p.author.name);
      this.db.notes.push(`${p.author.name} is an author name, probably not what you want`);
    }
    const date = p.date;
    if (date === undefined) throw new DevStatsError('DEV_STATS_BAD_LOG', `${lines[0] ?? 'a commit'} has no Date: line`);
    const employer = this.db.employerOf(p.author, p.email, date);
    if (p.merge) return;
    this.countChangeset(p, date, employer);
  }

  private countChangeset(p: GitdmChangeset, date: string, employer: ReturnType<GitdmDatabase['employerOf']>): void {
    const changed = Math.max(p.added, p.removed);
    this.totals.added += p.added;
    this.totals.removed += p.removed;
    this.totals.changed += changed;
    this.totals.changesets++;
    employer.added += p.added;
    employer.removed += p.removed;
    employer.changed += changed;
    employer.count++;
    employer.hackers.add(p.author);
    for (const [email, hacker] of p.sobs) this.db.employerOf(hacker, email, date).sobs++;
    const author = p.author;
    author.added += p.added;
    author.removed += p.removed;
    author.changed += changed;
    author.patches++;
    for (const [, hacker] of p.sobs) hacker.signoffs++;
    for (const hacker of p.reviews) hacker.reviews++;
    for (const hacker of p.testers) hacker.tested++;
    for (const hacker of p.reporters) hacker.reports++;
  }
}
