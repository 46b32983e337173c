import {
  OUTPUT_FORMATS,
  buildReport,
  collectGitdmReport,
  collectStats,
  formatPercent,
  readTagDates,
  releaseStatus,
  renderReleaseStatus,
  renderReport,
  type OutputFormat,
  type Table,
} from '@kernsim/dev-stats';
import type { Block } from '../report/model.js';
import { barChart } from '../report/svg.js';
import { choiceOption, dateOption, gitDateOption, intOption, stringOption } from './options.js';
import type { Section } from './section.js';

function tableBlock(title: string, table: Table | undefined, who: string): Block[] {
  if (table === undefined || table.rows.length === 0) return [];
  return [
    {
      kind: 'table',
      title: `${title}: ${table.title}`,
      columns: [{ header: who }, { header: table.unit, align: 'right' }, { header: '%', align: 'right' }],
      // The share from count and total, rounded once, as dev-stats and gitdm print it.
      rows: table.rows.map((row) => [row.name, row.count, formatPercent(row.count, table.total)]),
    },
  ];
}

/** The developer tables LWN prints, credits included (tables nobody has a credit in are left out). */
const DEVELOPER_TABLES = ['changesets', 'changed-lines', 'lines-removed', 'signoffs', 'reviews', 'tests', 'reports', 'test-credits-given', 'report-credits-given'];
const EMPLOYER_TABLES = ['changesets', 'changed-lines', 'signoffs', 'developers'];

/** LWN's "who wrote this release" tables, computed from a real git repository. */
export const statsSection: Section = {
  id: 'stats',
  title: 'Statistics for a development cycle (gitdm-style, from git)',
  summary: "LWN's most-active developers and employers tables for a git range (default: this repository)",
  options: [
    { flags: '--repo <path>', description: 'repository to read (default: the current directory)' },
    { flags: '--range <range>', description: 'revision range, e.g. v3.2..v3.3 (default: HEAD)' },
    { flags: '--top <n>', description: 'rows per table', defaultValue: '10' },
    { flags: '--config <file>', description: "gitdm.config with the employer maps" },
    { flags: '--no-author-signoffs', description: "do not count authors' signoffs of their own changesets (gitdm's -s)" },
    { flags: '--mailmap <file>', description: "mailmap to use instead of the repository's .mailmap" },
    { flags: '--since <date>', description: 'only commits more recent than <date>' },
    { flags: '--until <date>', description: 'only commits older than <date>' },
    { flags: '--gitdm', description: "also show gitdm's own report for the range, byte for byte (dev-stats --gitdm)" },
    { flags: '--format <format>', description: `also show dev-stats' own output: ${OUTPUT_FORMATS.join(', ')}` },
    { flags: '--now <date>', description: 'date for the release status (YYYY-MM-DD)' },
  ],
  async run(options) {
    const repo = stringOption(options, 'repo', '.');
    const range = stringOption(options, 'range', 'HEAD');
    const top = intOption(options, 'top', 10, { min: 1, max: 1000 });
    const config = options.config;
    const now = dateOption(options, 'now', new Date().toISOString().slice(0, 10));
    const since = gitDateOption(options, 'since');
    const until = gitDateOption(options, 'until');
    const format = typeof options.format === 'string' ? choiceOption<OutputFormat>(options, 'format', OUTPUT_FORMATS, 'text') : undefined;
    const common = {
      repo,
      revisions: [range],
      ...(typeof config === 'string' ? { config } : {}),
      ...(since === undefined ? {} : { since }),
      ...(until === undefined ? {} : { until }),
    };
    const { accumulator, config: parsed } = await collectStats({
      ...common,
      ...(typeof options.mailmap === 'string' ? { mailmap: options.mailmap } : {}),
      countAuthorSignoffs: options.authorSignoffs !== false,
    });
    const gitdm = options.gitdm === true
      ? await collectGitdmReport({ ...common, authorSignoffs: options.authorSignoffs !== false, top, today: now })
      : undefined;
    const report = buildReport(accumulator, { title: range, top, ...(parsed === undefined ? {} : { config: parsed }) });
    const t = report.totals;
    const dev = (id: string): Table | undefined => report.developers.find((table) => table.id === id);
    const emp = (id: string): Table | undefined => report.employers.find((table) => table.id === id);
    const count = (n: number, noun: string): string => `${String(n)} ${noun}${n === 1 ? '' : 's'}`;
    const blocks: Block[] = [
      {
        kind: 'paragraph',
        text:
          `${range} in ${repo === '.' ? 'this repository' : repo}: ${count(t.changesets, 'changeset')} (merges not counted: ${t.merges}) ` +
          `from ${count(t.developers, 'developer')} and ${count(t.employers, 'employer')}; ${t.added} lines added, ${t.removed} removed ` +
          `(net ${t.net}). Changed lines per changeset are max(added, removed), as LWN counts them.`,
      },
      ...DEVELOPER_TABLES.flatMap((id) => tableBlock('Most active developers', dev(id), 'Developer')),
      ...EMPLOYER_TABLES.flatMap((id) => tableBlock('Most active employers', emp(id), 'Employer')),
    ];
    const byChanged = dev('changed-lines');
    if (byChanged !== undefined && byChanged.rows.length > 0) {
      blocks.push({
        kind: 'figure',
        title: 'Changed lines by developer',
        svg: barChart(byChanged.rows.map((row) => ({ label: row.name, value: row.count })), { unit: 'lines' }),
        alt: byChanged.rows.map((row) => `${row.name} ${row.count}`).join(', '),
      });
    }
    const tags = await readTagDates(repo);
    let release: unknown = null;
    if (tags.length > 0) {
      try {
        const status = releaseStatus(tags, now);
        release = status;
        blocks.push({ kind: 'pre', title: 'dev-stats release', text: renderReleaseStatus(status, 'text') });
      } catch {
        // Tags that are not versions: no release status to show.
      }
    }
    if (format !== undefined) blocks.push({ kind: 'pre', title: `dev-stats --format ${format}`, text: renderReport(report, format) });
    if (gitdm !== undefined) blocks.push({ kind: 'pre', title: 'gitdm -n -u (dev-stats --gitdm)', text: gitdm });
    return { id: 'stats', title: this.title, blocks, data: { report, release, ...(gitdm === undefined ? {} : { gitdm }) } };
  },
};
