import { checkDateOption } from '../date-option.js';
import { DevStatsError } from '../errors.js';
import { GIT_LOG_ARGS, GitFormatParser } from '../git-format.js';
import { LineDecoder } from '../line-decoder.js';
import type { CommitRecord } from '../model.js';
import type { CommitCache } from './commit-cache.js';
import { runGit, streamGit } from './git.js';

export interface ReadRepoOptions {
  readonly repo: string;
  /** Revisions as git takes them (`v3.2..v3.3`, `main ^topic`); default HEAD. */
  readonly revisions?: readonly string[];
  readonly since?: string;
  readonly until?: string;
  /** Number of `git log` processes reading parts of the range at once (default 1). */
  readonly jobs?: number;
  /** Parts the range is split into (default: `jobs`); at most `jobs` run at once. */
  readonly parts?: number;
  readonly cache?: CommitCache;
  /**
   * Most uncached commits handed to git by id; above it (or above half the range) the
   * whole range is read again by position. Bounds the memory the id lists take.
   */
  readonly maxListedIds?: number;
  /** Ranges smaller than twice this are read by one process (default 500). */
  readonly minCommitsPerPart?: number;
  /** Called once per commit with its position in the range's log order (0 = newest). */
  readonly onCommit: (commit: CommitRecord, position: number) => void;
  readonly onProgress?: (commits: number) => void;
}

/** `--since`/`--until`, then the revisions after `--end-of-options` (default HEAD). */
export function revisionArgs(options: Pick<ReadRepoOptions, 'revisions' | 'since' | 'until'>): string[] {
  const revisions = options.revisions === undefined || options.revisions.length === 0 ? ['HEAD'] : options.revisions;
  for (const revision of revisions) {
    if (revision.startsWith('-')) {
      throw new DevStatsError('DEV_STATS_UNKNOWN_REVISION', `expected a revision or range, found the option-like "${revision}"`);
    }
  }
  const args: string[] = [];
  if (options.since !== undefined) args.push(`--since=${checkDateOption('--since', options.since)}`);
  if (options.until !== undefined) args.push(`--until=${checkDateOption('--until', options.until)}`);
  args.push('--end-of-options', ...revisions, '--');
  return args;
}

type Positioned = (commit: CommitRecord, position: number) => void;

/**
 * Runs one `git log` in dev-stats' format and parses it as it streams; the n-th commit
 * it prints gets `position(n)`.
 */
async function gitLog(repo: string, args: readonly string[], onCommit: Positioned, position: (n: number) => number, input?: string): Promise<void> {
  const decoder = new LineDecoder();
  let n = 0;
  const parser = new GitFormatParser((commit) => {
    onCommit(commit, position(n++));
  });
  const line = (text: string): void => {
    parser.line(text);
  };
  await streamGit(repo, [...GIT_LOG_ARGS, ...args], {
    ...(input === undefined ? {} : { input }),
    onData: (chunk) => {
      decoder.push(chunk, line);
    },
  });
  decoder.end(line);
  parser.end();
}

/** Runs tasks with at most `limit` at once; the first failure wins, after all settle. */
async function pool(tasks: readonly (() => Promise<void>)[], limit: number): Promise<void> {
  let next = 0;
  let failure: unknown;
  const worker = async (): Promise<void> => {
    while (next < tasks.length && failure === undefined) {
      const task = tasks[next++];
      try {
        await task?.();
      } catch (error) {
        failure ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  if (failure !== undefined) throw failure instanceof Error ? failure : new Error('a git process failed');
}

/**
 * Splits `count` commits, in git's order for the range, into parts read with
 * `--skip`/`--max-count`: git walks the same range the same way in every process, so the
 * parts are disjoint and cover the range exactly, and no id list is held in memory.
 */
function partsByPosition(count: number, parts: number): { skip: number; take: number }[] {
  const result: { skip: number; take: number }[] = [];
  const n = Math.max(1, Math.min(parts, count));
  for (let i = 0; i < n; i++) {
    const skip = Math.floor((i * count) / n);
    const end = Math.floor(((i + 1) * count) / n);
    if (end > skip) result.push({ skip, take: end - skip });
  }
  return result;
}

/**
 * Streams the commits of a range out of a repository; every commit of the range is
 * emitted exactly once. One job and no cache: a single `git log`. Several jobs: the range
 * is counted and read in parts by position by parallel `git log` processes (each process
 * starts with cold object caches, so a few large parts beat many small ones). With a
 * cache: `git rev-list` lists the range, cached commits are served at once, and the rest
 * are read by id (few) or by position, skipping the ones already served (many).
 */
export async function readRepoCommits(options: ReadRepoOptions): Promise<void> {
  const jobs = Math.max(1, options.jobs ?? 1);
  const parts = Math.max(1, options.parts ?? jobs);
  let seen = 0;
  const emit = (commit: CommitRecord, position: number): void => {
    seen++;
    if (options.onProgress !== undefined && seen % 1000 === 0) options.onProgress(seen);
    options.onCommit(commit, position);
  };
  const revisions = revisionArgs(options);
  const cache = options.cache;
  if (cache === undefined) {
    if (parts === 1) {
      await gitLog(options.repo, revisions, emit, (n) => n);
    } else {
      const count = Number((await runGit(options.repo, ['rev-list', '--count', ...revisions])).trim());
      // A small range is not worth the extra processes' cold start.
      await readByPosition(options.repo, revisions, count, count < (options.minCommitsPerPart ?? 500) * 2 ? 1 : parts, jobs, emit);
    }
    options.onProgress?.(seen);
    return;
  }

  // Pass 1: serve what the cache knows; note what it does not.
  const maxListed = options.maxListedIds ?? 200_000;
  // Mutated by the rev-list callback below (an object, so the compiler sees the writes).
  const pass: { total: number; uncached: number; listed: string[] | undefined; at: number[] } = { total: 0, uncached: 0, listed: [], at: [] };
  const decoder = new LineDecoder();
  const onId = (line: string): void => {
    const id = line.trim();
    if (id === '') return;
    const position = pass.total++;
    const cached = cache.get(id);
    if (cached !== undefined) {
      emit(cached, position);
      return;
    }
    pass.uncached++;
    if (pass.listed !== undefined && pass.listed.length < maxListed) {
      pass.listed.push(id);
      pass.at.push(position);
    } else {
      pass.listed = undefined;
    }
  };
  await streamGit(options.repo, ['rev-list', ...revisions], {
    onData: (data) => {
      decoder.push(data, onId);
    },
  });
  decoder.end(onId);
  if (pass.uncached > 0) {
    const store = (commit: CommitRecord, position: number): void => {
      cache.put(commit);
      emit(commit, position);
    };
    const ids = pass.listed;
    pass.listed = undefined;
    if (ids !== undefined && pass.uncached * 2 <= pass.total) {
      const tasks = partsByPosition(ids.length, ids.length < 200 ? 1 : parts).map(({ skip, take }) => () =>
        gitLog(options.repo, ['--no-walk=unsorted', '--stdin'], store, (n) => pass.at[skip + n] ?? skip + n, `${ids.slice(skip, skip + take).join('\n')}\n`),
      );
      await pool(tasks, jobs);
    } else {
      // Pass 1 served every commit the cache has (a damaged entry is dropped from the
      // cache when read, so it counts as missing); a range lists each commit once.
      const fresh = (commit: CommitRecord, position: number): void => {
        if (!cache.has(commit.id)) store(commit, position);
      };
      await readByPosition(options.repo, revisions, pass.total, parts, jobs, fresh);
    }
  }
  cache.flush();
  options.onProgress?.(seen);
}

async function readByPosition(
  repo: string,
  revisions: readonly string[],
  count: number,
  parts: number,
  jobs: number,
  onCommit: Positioned,
): Promise<void> {
  if (count === 0) return;
  const [before, after] = splitAtEndOfOptions(revisions);
  const tasks = partsByPosition(count, parts).map(({ skip, take }) => () =>
    gitLog(repo, [...before, `--skip=${skip}`, `--max-count=${take}`, ...after], onCommit, (n) => skip + n),
  );
  await pool(tasks, jobs);
}

function splitAtEndOfOptions(args: readonly string[]): [string[], string[]] {
  const at = args.indexOf('--end-of-options');
  return [args.slice(0, at), args.slice(at)];
}
