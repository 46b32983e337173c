import { availableParallelism } from 'node:os';
import { readFileSync, realpathSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import { collectStats, type CollectOptions } from './adapters/collect.js';
import { collectGitdmReport } from './adapters/collect-gitdm.js';
import { describeFsError } from './adapters/fs-errors.js';
import { writeFileAtomic } from './adapters/write-file.js';
import { collectTrend } from './adapters/collect-trend.js';
import { readTagDates } from './adapters/tags.js';
import { DevStatsError } from './errors.js';
import type { LogFormat } from './log-parser.js';
import { releaseStatus } from './release.js';
import { OUTPUT_FORMATS, type OutputFormat, renderReleaseStatus, renderReport, renderTrend } from './render/index.js';
import { escapeControls } from './render/escape.js';
import { buildReport } from './report.js';

export interface CliIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown; readonly isTTY?: boolean };
  readonly stdin?: Readable;
  /** Today as YYYY-MM-DD (the CLI's only clock). */
  readonly today: () => string;
  readonly writeFile: (path: string, text: string) => Promise<void>;
}

interface CommonOptions {
  readonly repo?: string;
  readonly format: OutputFormat;
  readonly output?: string;
  readonly config?: string;
  readonly mailmap?: string;
  readonly jobs?: string;
  readonly cache: boolean;
  readonly cacheDir?: string;
  readonly authorSignoffs: boolean;
}

interface StatsOptions extends CommonOptions {
  readonly since?: string;
  readonly until?: string;
  readonly log?: string;
  readonly logFormat: LogFormat;
  readonly top?: string;
  readonly range?: string;
  readonly gitdm?: boolean;
}

interface TrendOptions extends CommonOptions {
  readonly releases: string;
  readonly to?: string;
  readonly employers: string;
}

interface ReleaseOptions {
  readonly repo?: string;
  readonly format: OutputFormat;
  readonly output?: string;
  readonly now?: string;
}

class UsageError extends Error {}

/** The package version (src/ and dist/ both sit one level below package.json). */
function packageVersion(): string {
  try {
    const json = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof json.version === 'string' ? json.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

function positiveInt(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new UsageError(`${flag} expects a positive integer, got "${value}"`);
  return Number(value);
}

/** More git processes than this at once is a typo, not a machine (each one walks the history). */
const MAX_JOBS = 64;

function jobCount(value: string | undefined): number {
  const jobs = positiveInt(value, '--jobs', Math.min(2, availableParallelism()));
  if (jobs > MAX_JOBS) throw new UsageError(`--jobs expects 1 to ${String(MAX_JOBS)} git processes, got "${String(value)}"`);
  return jobs;
}

/** A real day written YYYY-MM-DD (2012-02-30 is not one). */
function isCalendarDate(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const time = Date.parse(`${text}T00:00:00Z`);
  return Number.isFinite(time) && new Date(time).toISOString().slice(0, 10) === text;
}

function formatOption(): Option {
  return new Option('-f, --format <format>', 'output format').choices(OUTPUT_FORMATS).default('text');
}

function addCommon(command: Command): Command {
  return command
    .option('-C, --repo <path>', 'repository to read (default: the current directory)')
    .addOption(formatOption())
    .option('-o, --output <file>', 'write the report to <file> instead of stdout')
    .option('--config <gitdm.config>', "gitdm's configuration (EmailAliases, EmailMap, GroupMap, VirtualEmployer)")
    .option('--mailmap <file>', "mailmap to use instead of the repository's .mailmap")
    .option('-j, --jobs <n>', 'git processes reading parts of the range at once')
    .option('--no-cache', 'do not read or write the commit cache')
    .option('--cache-dir <dir>', 'keep the commit cache here (default: <git dir>/dev-stats)')
    .option('--no-author-signoffs', "do not count authors' signoffs of their own changesets");
}

/** `--gitdm`: gitdm's report; options gitdm has no counterpart for are refused, not ignored. */
async function gitdmReport(revisions: readonly string[], options: StatsOptions, command: Command, io: CliIo): Promise<string> {
  for (const flag of ['format', 'mailmap', 'logFormat', 'jobs', 'cacheDir'] as const) {
    if (command.getOptionValueSource(flag) === 'cli') {
      const name = flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
      throw new UsageError(`--gitdm prints gitdm's text report and takes no --${name}`);
    }
  }
  return collectGitdmReport({
    ...(options.repo === undefined ? {} : { repo: options.repo }),
    revisions,
    ...(options.since === undefined ? {} : { since: options.since }),
    ...(options.until === undefined ? {} : { until: options.until }),
    ...(options.log === undefined ? {} : { log: options.log }),
    ...(io.stdin === undefined ? {} : { stdin: io.stdin }),
    ...(options.config === undefined ? {} : { config: options.config }),
    authorSignoffs: options.authorSignoffs,
    ...(options.top === undefined ? {} : { top: positiveInt(options.top, '--top', 20) }),
    today: io.today(),
  });
}

function collectOptions(options: CommonOptions, io: CliIo): CollectOptions {
  const progress = io.stderr.isTTY === true;
  return {
    ...(options.repo === undefined ? {} : { repo: options.repo }),
    ...(options.config === undefined ? {} : { config: options.config }),
    ...(options.mailmap === undefined ? {} : { mailmap: options.mailmap }),
    jobs: jobCount(options.jobs),
    cache: options.cache ? (options.cacheDir ?? true) : false,
    countAuthorSignoffs: options.authorSignoffs,
    ...(progress ? { onProgress: (n: number) => io.stderr.write(`\rdev-stats: ${n} commits read`) } : {}),
    ...(io.stdin === undefined ? {} : { stdin: io.stdin }),
  };
}

async function emit(text: string, output: string | undefined, io: CliIo): Promise<void> {
  if (io.stderr.isTTY === true) io.stderr.write('\r\u001b[K');
  if (output === undefined) io.stdout.write(text);
  else await io.writeFile(output, text);
}

export function buildProgram(io: CliIo): Command {
  const program = new Command('dev-stats')
    .description("LWN-style development statistics (gitdm's tables) for a git repository or a saved log.")
    .version(packageVersion())
    .exitOverride()
    // Commander's messages quote what was typed: shown with control characters escaped.
    .configureOutput({ writeOut: (text) => io.stdout.write(text), writeErr: (text) => io.stderr.write(text.split('\n').map(escapeControls).join('\n')) });

  addCommon(
    program
      .command('stats', { isDefault: true })
      .description('most active developers and employers over a range (the default command)')
      .argument('[revisions...]', 'revision range(s) as git takes them, e.g. v3.2..v3.3 (default HEAD)'),
  )
    .option('-r, --range <range>', 'revision range (same as the positional argument)')
    .option('--since <date>', 'only commits more recent than <date>')
    .option('--until <date>', 'only commits older than <date>')
    .option('--log <file>', "read a saved 'git log --numstat' or 'git log -p' (- for stdin) instead of a repository")
    .addOption(new Option('--log-format <format>', 'format of --log').choices(['auto', 'gitdm', 'dev-stats']).default('auto'))
    .option('-n, --top <n>', 'rows per table (default 20; with --gitdm all, as gitdm)')
    .option('--gitdm', "print gitdm's own report, byte for byte (its layout, identities and order)")
    .action(async (revisions: string[], options: StatsOptions, command: Command) => {
      const all = options.range === undefined ? revisions : [options.range, ...revisions];
      if (options.gitdm === true) {
        // gitdm's bytes, except that control characters in names are shown as \xNN.
        const text = await gitdmReport(all, options, command, io);
        await emit(text.split('\n').map(escapeControls).join('\n'), options.output, io);
        return;
      }
      const top = positiveInt(options.top, '--top', 20);
      const { accumulator, config } = await collectStats({
        ...collectOptions(options, io),
        revisions: all,
        ...(options.since === undefined ? {} : { since: options.since }),
        ...(options.until === undefined ? {} : { until: options.until }),
        ...(options.log === undefined ? {} : { log: options.log, logFormat: options.logFormat }),
      });
      const title = options.log !== undefined ? (options.log === '-' ? 'stdin' : options.log) : all.length > 0 ? all.join(' ') : 'HEAD';
      const report = buildReport(accumulator, {
        title,
        top,
        ...(config === undefined ? {} : { config }),
      });
      await emit(renderReport(report, options.format), options.output, io);
    });

  program
    .command('release')
    .description('release-cycle status from vX.Y / vX.Y-rcN / vX.Y.Z tags: current rc, cycle lengths, predicted date, stable updates')
    .option('-C, --repo <path>', 'repository to read (default: the current directory)')
    .addOption(formatOption())
    .option('-o, --output <file>', 'write the report to <file> instead of stdout')
    .option('--now <date>', 'the date to report as of (YYYY-MM-DD; default today)')
    .action(async (options: ReleaseOptions) => {
      const now = options.now ?? io.today();
      if (!isCalendarDate(now)) throw new UsageError(`--now expects a date YYYY-MM-DD, got "${now}"`);
      const status = releaseStatus(await readTagDates(options.repo ?? '.'), now);
      await emit(renderReleaseStatus(status, options.format), options.output, io);
    });

  addCommon(
    program
      .command('trend')
      .description("per-release series over consecutive releases: changesets, developers, employers, employers' shares"),
  )
    .option('--releases <n>', 'number of release cycles', '8')
    .option('--to <tag>', 'last release of the series (default: the newest)')
    .option('--employers <n>', 'employers to follow besides (None)', '5')
    .action(async (options: TrendOptions) => {
      const trend = await collectTrend({
        ...collectOptions(options, io),
        releases: positiveInt(options.releases, '--releases', 8),
        topEmployers: positiveInt(options.employers, '--employers', 5),
        ...(options.to === undefined ? {} : { to: options.to }),
      });
      await emit(renderTrend(trend, options.format), options.output, io);
    });
  return program;
}

/** Runs the CLI; returns the exit code. Failures are one line on stderr, never a stack trace. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    await buildProgram(io).parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    if (io.stderr.isTTY === true) io.stderr.write('\r\u001b[K');
    const message = error instanceof Error ? error.message : String(error);
    // Messages quote names, config lines and log text from outside: escaped like the reports.
    io.stderr.write(`dev-stats: ${escapeControls(message.split('\n')[0] ?? message)}\n`);
    // A refused option value (a bad --since, say) is bad usage as much as a misspelt flag.
    const badOption = error instanceof DevStatsError && error.code === 'DEV_STATS_BAD_OPTION';
    return error instanceof UsageError || badOption ? 2 : 1;
  }
}

/**
 * A failed write to stdout: a reader that closed the pipe (`| head`) wanted no more, so
 * exit 0 quietly; anything else (`> /dev/full`) lost the report, so one line and exit 1.
 */
export function onStdoutError(error: NodeJS.ErrnoException, stderr: { write(text: string): unknown }, exit: (code: number) => void): void {
  if (error.code === 'EPIPE') {
    exit(0);
    return;
  }
  stderr.write(`dev-stats: cannot write to standard output: ${describeFsError(error)}\n`);
  exit(1);
}

/** Entry point for the `dev-stats` bin. */
export async function runFromProcess(): Promise<void> {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    onStdoutError(error, process.stderr, (code) => process.exit(code));
  });
  // `pnpm … dev-stats -- -C repo` and `npm run … -- -C repo` hand the `--` on.
  const args = process.argv.slice(2);
  process.exitCode = await main(args[0] === '--' ? args.slice(1) : args, {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    today: () => new Date().toISOString().slice(0, 10),
    writeFile: writeFileAtomic,
  });
}

function isEntry(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntry()) await runFromProcess();
