import { spawn } from 'node:child_process';
import { DevStatsError } from '../errors.js';

export interface GitProcessOptions {
  /** Written to git's stdin, then closed. */
  readonly input?: string;
  /** Receives stdout as it arrives; return false to ask for a pause until `resume` is called. */
  readonly onData: (chunk: Uint8Array) => void;
  /** Gives the caller a way to pause and resume git's output (backpressure). */
  readonly onStart?: (flow: { readonly pause: () => void; readonly resume: () => void }) => void;
}

function classify(stderr: string, args: readonly string[]): DevStatsError {
  const first = stderr.split('\n').find((line) => line.trim() !== '')?.replace(/^(fatal|error): /, '') ?? `git ${args.join(' ')} failed`;
  if (/not a git repository|cannot change to/i.test(stderr)) return new DevStatsError('DEV_STATS_NOT_A_REPOSITORY', first);
  if (/unknown revision|bad revision|ambiguous argument|invalid object name|bad object/i.test(stderr)) {
    return new DevStatsError('DEV_STATS_UNKNOWN_REVISION', first);
  }
  return new DevStatsError('DEV_STATS_GIT_FAILED', first);
}

/**
 * Runs `git -C repo ...args` (an argument array, never a shell) and streams its stdout.
 * Resolves when git exits 0; otherwise rejects with a typed error built from stderr.
 */
export function streamGit(repo: string, args: readonly string[], options: GitProcessOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', ['-C', repo, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, GIT_PAGER: 'cat', LC_ALL: 'C', GIT_TERMINAL_PROMPT: '0' },
    });
    let stderr = '';
    let failed = false;
    options.onStart?.({ pause: () => child.stdout.pause(), resume: () => child.stdout.resume() });
    child.on('error', (error) => {
      failed = true;
      reject(new DevStatsError('DEV_STATS_GIT_FAILED', `could not run git: ${error.message}`, { cause: error }));
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => {
      if (stderr.length < 65536) stderr += text;
    });
    child.stdout.on('data', (chunk: Buffer) => {
      if (failed) return;
      try {
        options.onData(chunk);
      } catch (error) {
        failed = true;
        child.kill();
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
    child.stdin.on('error', () => {
      // git may exit before reading all of stdin (e.g. on a bad revision); its exit code tells.
    });
    child.stdin.end(options.input ?? '');
    child.on('close', (code) => {
      if (failed) return;
      if (code === 0) resolve();
      else reject(classify(stderr, args));
    });
  });
}

/** Runs git and returns its whole stdout as text (for small outputs). */
export async function runGit(repo: string, args: readonly string[], input?: string): Promise<string> {
  const chunks: Uint8Array[] = [];
  await streamGit(repo, args, { ...(input === undefined ? {} : { input }), onData: (chunk) => chunks.push(chunk) });
  return Buffer.concat(chunks).toString('utf8');
}

/** The repository's git directory (absolute), or a NOT_A_REPOSITORY error. */
export async function gitDir(repo: string): Promise<string> {
  return (await runGit(repo, ['rev-parse', '--absolute-git-dir'])).trim();
}

/** The repository's `.mailmap` text: the work tree's file, else HEAD's blob (bare repos). */
export async function readMailmapText(repo: string, readFile: (path: string) => Promise<string | undefined>): Promise<string> {
  const top = (await runGit(repo, ['rev-parse', '--is-bare-repository'])).trim() === 'true'
    ? undefined
    : (await runGit(repo, ['rev-parse', '--show-toplevel'])).trim();
  if (top !== undefined) return (await readFile(`${top}/.mailmap`)) ?? '';
  try {
    return await runGit(repo, ['cat-file', 'blob', 'HEAD:.mailmap']);
  } catch {
    return '';
  }
}

/**
 * Runs `read`; when git rejects a revision in a repository without a single commit, says
 * so ("has no commits yet") instead of git's "bad revision 'HEAD'".
 */
export async function explainingEmptyRepository<T>(repo: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof DevStatsError && error.code === 'DEV_STATS_UNKNOWN_REVISION') {
      const any = await runGit(repo, ['rev-list', '-n', '1', '--all']).catch(() => 'unknown');
      if (any.trim() === '') {
        throw new DevStatsError('DEV_STATS_NO_COMMITS', `the repository ${repo === '.' ? 'in the current directory' : repo} has no commits yet`, { cause: error });
      }
    }
    throw error;
  }
}
