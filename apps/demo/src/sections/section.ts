import type { SectionReport } from '../report/model.js';

/** Parsed command-line options of one section (commander's camelCased keys). */
export type SectionOptions = Readonly<Record<string, string | boolean | undefined>>;

export interface SectionOption {
  /** Commander flags, e.g. `--cpus <n>`. */
  readonly flags: string;
  readonly description: string;
  readonly defaultValue?: string;
}

/** What the CLI lends a section that does more than compute: files, progress, Ctrl-C, time. */
export interface SectionContext {
  readonly stderr: { write(text: string): unknown; readonly isTTY?: boolean };
  readFile(path: string): Promise<string>;
  writeFile(path: string, contents: string): Promise<void>;
  /** Calls back once on Ctrl-C (the section stops cleanly and reports what it has). */
  onInterrupt(callback: () => void): void;
  /** Milliseconds, for elapsed-time figures. */
  now(): number;
}

/** One part of the tour, and the `kernsim <id>` subcommand that runs it alone. */
export interface Section {
  readonly id: string;
  readonly title: string;
  readonly summary: string;
  readonly options: readonly SectionOption[];
  /** A command of its own, not part of the tour `kernsim` runs; its `--json` prints its data as it is. */
  readonly standalone?: boolean;
  run(options: SectionOptions, context?: SectionContext): Promise<SectionReport> | SectionReport;
}

/** Bad command-line input: reported as one line, exit code 2. */
export class UsageError extends Error {
  readonly code = 'KERNSIM_USAGE';
  override readonly name = 'UsageError';
}
