import { Command, CommanderError } from 'commander';
import { escapeText } from './report/escape.js';
import type { SectionReport } from './report/model.js';
import { renderHtml } from './report/render-html.js';
import { renderText } from './report/render-text.js';
import { styleFor } from './report/style.js';
import { type Section, type SectionContext, type SectionOptions, UsageError } from './sections/section.js';

export interface Io {
  readonly stdout: { write(text: string): unknown; readonly isTTY?: boolean };
  readonly stderr: { write(text: string): unknown };
  readonly env: NodeJS.ProcessEnv;
  writeFile(path: string, contents: string): Promise<void>;
  readFile?(path: string): Promise<string>;
  readonly stderrIsTTY?: boolean;
  onInterrupt?(callback: () => void): void;
  now?(): number;
}

function contextOf(io: Io): SectionContext {
  return {
    stderr: { write: (text) => io.stderr.write(text), isTTY: io.stderrIsTTY ?? false },
    readFile: (path) => (io.readFile ? io.readFile(path) : Promise.reject(new UsageError(`cannot read ${path} here`))),
    writeFile: (path, contents) => io.writeFile(path, contents),
    onInterrupt: (callback) => io.onInterrupt?.(callback),
    now: () => io.now?.() ?? 0,
  };
}

interface OutputOptions {
  readonly json?: boolean;
  readonly html?: string;
}

const VERSION = '0.0.0';

async function emit(reports: readonly SectionReport[], output: OutputOptions, io: Io, raw = false): Promise<void> {
  if (output.json === true && raw) {
    io.stdout.write(`${JSON.stringify(reports[0]?.data ?? null, null, 2)}\n`);
  } else if (output.json === true) {
    const payload = { kernsim: VERSION, sections: reports.map(({ id, title, data }) => ({ id, title, data })) };
    io.stdout.write(`${JSON.stringify(payload, null, 2)}\n`);
  } else {
    io.stdout.write(renderText(reports, styleFor(io.stdout, io.env)));
  }
  if (output.html !== undefined) {
    await io.writeFile(output.html, renderHtml(reports, `kernsim ${VERSION}`));
    io.stderr.write(`kernsim: wrote ${escapeText(output.html)}\n`);
  }
}

function addOutputOptions(command: Command): Command {
  return command
    .option('--json', 'print machine-readable JSON instead of text')
    .option('--html <file>', 'also write one self-contained HTML report to <file>');
}

export function buildProgram(sections: readonly Section[], io: Io): Command {
  const program = new Command('kernsim')
    .description('The LWN kernel page of March 2012, running: NMIs, live patching, kmem accounting, statistics.')
    .version(VERSION)
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      // Commander quotes what was typed: shown with control characters escaped.
      writeErr: (text) => io.stderr.write(escapeText(text)),
    })
    .showHelpAfterError('(run kernsim --help for usage)');
  addOutputOptions(program)
    .allowExcessArguments(true)
    .action(async (options: OutputOptions, command: Command) => {
      const [unknown] = command.args;
      if (unknown !== undefined) {
        const known = sections.map((section) => section.id).join(', ');
        throw new UsageError(`unknown command '${unknown}' (commands: ${known})`);
      }
      const reports: SectionReport[] = [];
      for (const section of sections) if (section.standalone !== true) reports.push(await section.run({}));
      await emit(reports, options, io);
    });
  for (const section of sections) {
    const command = program.command(section.id).description(section.summary);
    for (const option of section.options) {
      command.option(option.flags, option.description, option.defaultValue);
    }
    addOutputOptions(command).action(async (options: SectionOptions & OutputOptions) => {
      await emit([await section.run(options, contextOf(io))], options, io, section.standalone === true);
    });
  }
  return program;
}

/** Runs the CLI and returns the exit code; errors become one line on stderr. */
export async function main(argv: readonly string[], sections: readonly Section[], io: Io): Promise<number> {
  const program = buildProgram(sections, io);
  // `pnpm demo -- nmi --help` passes the `--` on; after it commander would take every option as an operand.
  const args = argv[0] === '--' ? argv.slice(1) : argv;
  try {
    await program.parseAsync([...args], { from: 'user' });
    return 0;
  } catch (error) {
    // Help and --version exit 0; every other commander error is bad usage.
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    const message = error instanceof Error ? error.message : String(error);
    const usage = error instanceof Error && 'code' in error && error.code === 'KERNSIM_USAGE';
    io.stderr.write(`kernsim: ${escapeText(message.split('\n')[0] ?? message)}\n`);
    if (io.env.KERNSIM_DEBUG !== undefined && error instanceof Error) io.stderr.write(`${error.stack ?? ''}\n`);
    return usage ? 2 : 1;
  }
}
