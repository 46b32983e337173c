// gitdm's "database" as it behaves: hackers looked up by address first, then by name
// (the first name seen stays), employers created in the order they are first named, each
// address's employers kept as a list of (end date, employer) sorted by end date.
import { DevStatsError } from '../errors.js';
import type { GitdmConfig, VirtualSplit } from '../gitdm-config.js';

export interface GitdmEmployer {
  name: string;
  count: number;
  added: number;
  removed: number;
  changed: number;
  sobs: number;
  readonly hackers: Set<GitdmHacker>;
  readonly splits: readonly VirtualSplit[] | undefined;
}

type Spans = [end: string, employer: GitdmEmployer][];

export interface GitdmHacker {
  /** As gitdm's pattern captured it (a trailing space or quote included). */
  readonly name: string;
  readonly emails: string[];
  readonly employers: Spans[];
  patches: number;
  added: number;
  removed: number;
  changed: number;
  signoffs: number;
  reviews: number;
  tested: number;
  reports: number;
  testcred: number;
  repcred: number;
}

/** `date` (YYYY-MM-DD) plus `days`, as YYYY-MM-DD. */
function addDays(date: string, days: number): string {
  const time = Date.parse(`${date}T00:00:00Z`) + days * 86_400_000;
  return new Date(time).toISOString().slice(0, 10);
}

export class GitdmDatabase {
  /** Insertion order is gitdm's id order: the order of its hacker list. */
  readonly hackers: GitdmHacker[] = [];
  /** Insertion order is gitdm's employer list order. */
  readonly employers = new Map<string, GitdmEmployer>();
  /** What gitdm prints on stdout besides the report (warnings, in order). */
  readonly notes: string[] = [];
  private readonly byName = new Map<string, GitdmHacker>();
  private readonly byEmail = new Map<string, GitdmHacker>();
  private readonly emailToEmployer = new Map<string, Spans>();
  /** gitdm ends open-ended employer spans a year after today. */
  private readonly nextYear: string;

  constructor(
    private readonly config: GitdmConfig | undefined,
    readonly today: string,
  ) {
    this.nextYear = addDays(today, 365);
    for (const entry of config?.sequence ?? []) {
      if (entry.kind === 'employer') this.addMapping(entry.key, entry.employer, entry.until ?? this.nextYear);
      else this.employers.set(entry.name, this.newEmployer(entry.name, entry.splits));
    }
    for (const email of this.emailToEmployer.keys()) {
      const remapped = this.remapEmail(email);
      if (remapped !== email) this.notes.push(`WARNING: ${email} is masked by an alias entry (${remapped})`);
    }
  }

  remapEmail(email: string): string {
    const lower = email.toLowerCase();
    return this.config?.aliases.get(lower) ?? lower;
  }

  /** gitdm's LookupStoreHacker (with -u: unknown addresses work for "(Unknown)"). */
  lookupStore(name: string, rawEmail: string): GitdmHacker {
    const email = this.remapEmail(rawEmail);
    const known = this.byEmail.get(email);
    if (known !== undefined) return known;
    const spans = this.mapToEmployer(email);
    const named = this.byName.get(name);
    if (named !== undefined) {
      named.emails.push(email);
      named.employers.push(spans);
      this.byEmail.set(email, named);
      return named;
    }
    const hacker: GitdmHacker = {
      name, emails: [email], employers: [spans],
      patches: 0, added: 0, removed: 0, changed: 0, signoffs: 0, reviews: 0, tested: 0, reports: 0, testcred: 0, repcred: 0,
    };
    this.hackers.push(hacker);
    this.byName.set(name, hacker);
    this.byEmail.set(email, hacker);
    return hacker;
  }

  /** The hacker's employer for `email` on `date`: the first span ending after it. */
  employerOf(hacker: GitdmHacker, email: string, date: string): GitdmEmployer {
    for (let i = 0; i < hacker.emails.length; i++) {
      if (hacker.emails[i] !== email) continue;
      for (const [end, employer] of hacker.employers[i] ?? []) if (end > date) return employer;
    }
    // gitdm itself stops with a Python exception here.
    throw new DevStatsError('DEV_STATS_BAD_CONFIG', `no employer for ${email} on ${date}: every EmailMap line for it ends earlier (gitdm stops here too)`);
  }

  getEmployer(name: string): GitdmEmployer {
    let employer = this.employers.get(name);
    if (employer === undefined) {
      employer = this.newEmployer(name, undefined);
      this.employers.set(name, employer);
    }
    return employer;
  }

  /** Moves each virtual employer's counts to its real ones (truncated shares; the rest is dropped). */
  mixVirtuals(): void {
    for (const employer of [...this.employers.values()]) {
      if (employer.splits === undefined) continue;
      for (const split of employer.splits) {
        const real = this.getEmployer(split.employer);
        const fraction = split.percent / 100;
        real.added += Math.trunc(employer.added * fraction);
        real.removed += Math.trunc(employer.removed * fraction);
        real.changed += Math.trunc(employer.changed * fraction);
        real.count += Math.trunc(employer.count * fraction);
      }
      employer.count = employer.added = employer.removed = employer.changed = employer.sobs = 0;
      employer.hackers.clear();
    }
  }

  private newEmployer(name: string, splits: readonly VirtualSplit[] | undefined): GitdmEmployer {
    return { name, count: 0, added: 0, removed: 0, changed: 0, sobs: 0, hackers: new Set(), splits };
  }

  private addMapping(key: string, employerName: string, end: string): void {
    const employer = this.getEmployer(employerName);
    const spans = this.emailToEmployer.get(key);
    if (spans === undefined) {
      this.emailToEmployer.set(key, [[end, employer]]);
      return;
    }
    const at = spans.findIndex(([date]) => date > end);
    if (at < 0) spans.push([end, employer]);
    else spans.splice(at, 0, [end, employer]);
  }

  private mapToEmployer(rawEmail: string): Spans {
    const email = rawEmail.toLowerCase().replaceAll(' at ', '@');
    const exact = this.emailToEmployer.get(email);
    if (exact !== undefined) return exact;
    const parts = email.split('@');
    const domain = parts[1];
    if (domain === undefined) {
      this.notes.push(`Oops...funky email ${email}`);
      return [[this.nextYear, this.getEmployer('Funky')]];
    }
    const labels = domain.split('.');
    for (let first = labels.length - 2; first >= 0; first--) {
      const spans = this.emailToEmployer.get(labels.slice(first).join('.'));
      if (spans !== undefined) return spans;
    }
    return [[this.nextYear, this.getEmployer('(Unknown)')]];
  }
}
