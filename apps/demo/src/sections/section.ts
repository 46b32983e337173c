import type { SectionReport } from '../report/model.js';

/** Parsed command-line options of one section (commander's camelCased keys). */
export type SectionOptions = Readonly<Record<string, string | boolean | undefined>>;

export interface SectionOption {
  /** Commander flags, e.g. `--cpus <n>`. */
  readonly flags: string;
  readonly description: string;
  readonly defaultValue?: string;
}

/** One part of the tour, and the `kernsim <id>` subcommand that runs it alone. */
export interface Section {
  readonly id: string;
  readonly title: string;
  readonly summary: string;
  readonly options: readonly SectionOption[];
  run(options: SectionOptions): Promise<SectionReport> | SectionReport;
}

/** Bad command-line input: reported as one line, exit code 2. */
export class UsageError extends Error {
  readonly code = 'KERNSIM_USAGE';
  override readonly name = 'UsageError';
}
