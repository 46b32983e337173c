import { DevStatsError } from './errors.js';

/** One dated employer: the employer holds until `until` (exclusive), or for good. */
export interface EmployerSpan {
  readonly employer: string;
  readonly until: string | undefined;
}

export interface VirtualSplit {
  readonly employer: string;
  readonly percent: number;
}

/** One employer-defining line, in the order the configuration gave it (see `sequence`). */
export type GitdmConfigEntry =
  | { readonly kind: 'employer'; readonly key: string; readonly employer: string; readonly until: string | undefined }
  | { readonly kind: 'virtual'; readonly name: string; readonly splits: readonly VirtualSplit[] };

/** gitdm's maps, as read from its configuration files. */
export interface GitdmConfig {
  readonly aliases: ReadonlyMap<string, string>;
  /**
   * EmailMap/GroupMap lines and VirtualEmployer blocks in file order: gitdm creates its
   * employers in this order, which decides how it lists equal counts (`--gitdm` replays it).
   */
  readonly sequence: readonly GitdmConfigEntry[];
  /** Keyed by lower-case address or domain; spans sorted by end date, open-ended last. */
  readonly employers: ReadonlyMap<string, readonly EmployerSpan[]>;
  readonly companyMap: ReadonlyMap<string, string>;
  readonly virtualEmployers: ReadonlyMap<string, readonly VirtualSplit[]>;
}

export function emptyGitdmConfig(): GitdmConfig {
  return { aliases: new Map(), sequence: [], employers: new Map(), companyMap: new Map(), virtualEmployers: new Map() };
}

interface Line {
  readonly text: string;
  readonly where: string;
}

function configLines(text: string, file: string): Line[] {
  const lines: Line[] = [];
  text.split('\n').forEach((raw, index) => {
    const stripped = (raw.split('#')[0] ?? '').trim();
    if (stripped !== '') lines.push({ text: stripped, where: `${file}:${index + 1}` });
  });
  return lines;
}

function bad(where: string, what: string): DevStatsError {
  return new DevStatsError('DEV_STATS_BAD_CONFIG', `${where}: ${what}`);
}

const EMAIL_MAP_LINE = /^(\S+)\s+([^<]+?)\s*(?:<\s*(\S+)\s*)?$/;
const DATE = /^(\d{4})-(\d{1,2})-(\d{1,2})$/;

function normaliseDate(text: string, where: string): string {
  const match = DATE.exec(text);
  if (match === null) throw bad(where, `expected a date yyyy-mm-dd after "<", found "${text}"`);
  const [, y = '', m = '', d = ''] = match;
  const month = Number(m);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1 || day > 31) throw bad(where, `expected a real date, found "${text}"`);
  return `${y}-${m.padStart(2, '0')}-${d.padStart(2, '0')}`;
}

class Builder {
  readonly aliases = new Map<string, string>();
  readonly sequence: GitdmConfigEntry[] = [];
  readonly employers = new Map<string, EmployerSpan[]>();
  readonly companyMap = new Map<string, string>();
  readonly virtualEmployers = new Map<string, VirtualSplit[]>();

  addEmployer(key: string, employer: string, until: string | undefined, where: string): void {
    const spans = this.employers.get(key.toLowerCase()) ?? [];
    if (spans.some((span) => span.until === until)) {
      throw bad(where, `"${key}" already has an employer ${until === undefined ? 'without an end date' : `ending ${until}`}`);
    }
    spans.push({ employer, until });
    this.sequence.push({ kind: 'employer', key: key.toLowerCase(), employer, until });
    spans.sort((a, b) => (a.until ?? '9999') < (b.until ?? '9999') ? -1 : 1);
    this.employers.set(key.toLowerCase(), spans);
  }

  readAliases(text: string, file: string): void {
    for (const { text: line, where } of configLines(text, file)) {
      const match = /^("[^"]+"|\S+)\s+(\S+)$/.exec(line);
      if (match === null) throw bad(where, `expected "alias-address canonical-address", found "${line}"`);
      const canonical = match[2] ?? '';
      if (canonical.indexOf('@') <= 0) throw bad(where, `expected an e-mail address as the canonical one, found "${canonical}"`);
      this.aliases.set((match[1] ?? '').replace(/"/g, '').toLowerCase(), canonical.toLowerCase());
    }
  }

  readEmailMap(text: string, file: string): void {
    for (const { text: line, where } of configLines(text, file)) {
      const match = EMAIL_MAP_LINE.exec(line);
      if (match === null) throw bad(where, `expected "[user@]domain Employer [< yyyy-mm-dd]", found "${line}"`);
      const date = match[3];
      this.addEmployer(match[1] ?? '', (match[2] ?? '').trim(), date === undefined ? undefined : normaliseDate(date, where), where);
    }
  }

  readGroupMap(text: string, file: string, employer: string): void {
    for (const { text: line, where } of configLines(text, file)) {
      if (/\s/.test(line)) throw bad(where, `expected one address per line, found "${line}"`);
      this.addEmployer(line, employer, undefined, where);
    }
  }

  readCompanyMap(text: string, file: string): void {
    for (const { text: line, where } of configLines(text, file)) {
      const match = /^`(.+)`\s+`(.+)`$/.exec(line);
      if (match === null) throw bad(where, 'expected "`From name` `To name`", found "' + line + '"');
      this.companyMap.set(match[1] ?? '', match[2] ?? '');
    }
  }
}

/**
 * Reads a `gitdm.config` and the files it names (EmailAliases, EmailMap, DomainMap,
 * GroupMap, CompanyMap, inline VirtualEmployer blocks). `read` returns a file's text given
 * its name as written in the configuration; the caller decides what it is relative to.
 * FileTypeMap lines are accepted and ignored (dev-stats has no per-file-type report).
 */
export function parseGitdmConfig(configName: string, read: (file: string) => string): GitdmConfig {
  const builder = new Builder();
  const lines = configLines(read(configName), configName);
  for (let i = 0; i < lines.length; i++) {
    const { text, where } = lines[i] ?? { text: '', where: '' };
    const [directive = '', ...rest] = text.split(/\s+/);
    const argument = rest[0];
    if (argument === undefined) throw bad(where, `expected "<Directive> <file>", found "${text}"`);
    switch (directive) {
      case 'EmailAliases':
        builder.readAliases(read(argument), argument);
        break;
      case 'EmailMap':
      case 'DomainMap':
        builder.readEmailMap(read(argument), argument);
        break;
      case 'GroupMap': {
        const employer = rest.slice(1).join(' ');
        if (employer === '') throw bad(where, `expected "GroupMap <file> <Employer>", found "${text}"`);
        builder.readGroupMap(read(argument), argument, employer);
        break;
      }
      case 'CompanyMap':
        builder.readCompanyMap(read(argument), argument);
        break;
      case 'FileTypeMap':
        break;
      case 'VirtualEmployer': {
        const name = rest.join(' ');
        const splits: VirtualSplit[] = [];
        for (;;) {
          i++;
          const split = lines[i];
          if (split === undefined) throw bad(where, `expected an "end" line closing VirtualEmployer ${name}`);
          if (split.text === 'end') break;
          const match = /^(\d+)%?\s+(.+)$/.exec(split.text);
          const percent = Number(match?.[1]);
          if (match === null || !(percent > 0 && percent <= 100)) {
            throw bad(split.where, `expected "<percent> <Employer>" (1-100) in VirtualEmployer ${name}, found "${split.text}"`);
          }
          splits.push({ percent, employer: match[2] ?? '' });
        }
        if (splits.reduce((sum, s) => sum + s.percent, 0) > 100) {
          throw bad(where, `the splits of VirtualEmployer ${name} add up to more than 100%`);
        }
        builder.virtualEmployers.set(name, splits);
        builder.sequence.push({ kind: 'virtual', name, splits });
        break;
      }
      default:
        throw bad(where, `unknown directive "${directive}" (expected EmailAliases, EmailMap, DomainMap, GroupMap, CompanyMap, VirtualEmployer or FileTypeMap)`);
    }
  }
  return builder;
}
