import type { Readable } from 'node:stream';
import type { GitdmConfig } from '../gitdm-config.js';
import { GitdmLogParser } from '../gitdm-log.js';
import { GitdmEmulator } from '../gitdm-mode/emulator.js';
import { LineDecoder } from '../line-decoder.js';
import { explainingEmptyRepository, streamGit } from './git.js';
import { loadGitdmConfig } from './load-config.js';
import { readLines, withLogStream } from './read-log.js';
import { revisionArgs } from './read-repo.js';

export interface GitdmCollectOptions {
  /** Repository to read (default: the current directory's). Ignored when `log` is set. */
  readonly repo?: string;
  readonly revisions?: readonly string[];
  readonly since?: string;
  readonly until?: string;
  /** A saved `git log --numstat` or `git log -p` (`-` for stdin) instead of a repository. */
  readonly log?: string;
  readonly stdin?: Readable;
  readonly config?: string | GitdmConfig;
  readonly authorSignoffs?: boolean;
  readonly top?: number;
  /** Today as YYYY-MM-DD (gitdm's clock: future dates are clamped to it). */
  readonly today: string;
}

/**
 * gitdm's own report, byte for byte: what `git log --numstat -M <range> | gitdm -n -u`
 * prints (or gitdm reading the saved log). One git process in log order, no cache: the
 * order of the log decides gitdm's identities and its order of equal counts.
 */
export async function collectGitdmReport(options: GitdmCollectOptions): Promise<string> {
  const config = typeof options.config === 'string' ? loadGitdmConfig(options.config) : options.config;
  const emulator = new GitdmEmulator({
    today: options.today,
    ...(config === undefined ? {} : { config }),
    ...(options.authorSignoffs === undefined ? {} : { authorSignoffs: options.authorSignoffs }),
    ...(options.top === undefined ? {} : { top: options.top }),
    ...(options.log === undefined ? { numstat: true } : {}),
  });
  if (options.log !== undefined) {
    // The log must also be one dev-stats accepts: a cut-short or damaged log is an error.
    const check = new GitdmLogParser(() => undefined);
    await withLogStream(options.log, options.stdin, (stream) =>
      readLines(stream, (line) => {
        check.line(line);
        emulator.line(line);
      }),
    );
    check.end();
    return emulator.end();
  }
  const repo = options.repo ?? '.';
  const decoder = new LineDecoder();
  const line = (text: string): void => {
    emulator.line(text);
  };
  const args = ['log', '--numstat', '-M', '--no-color', '--no-decorate', ...revisionArgs(options)];
  await explainingEmptyRepository(repo, () =>
    streamGit(repo, args, {
      onData: (chunk) => {
        decoder.push(chunk, line);
      },
    }),
  );
  decoder.end(line);
  return emulator.end();
}
