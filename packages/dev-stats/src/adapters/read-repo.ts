import { DevStatsError } from '../errors.js';
import { GIT_LOG_ARGS, GitFormatParser } from '../git-format.js';
import { LineDecoder } from '../line-decoder.js';
import type { CommitRecord } from '../model.js';
import type { CommitCache } from './commit-cache.js';
import { streamGit } from './git.js';

export interface ReadRepoOptions {
  readonly repo: string;
  /** Revisions as git takes them (`v3.2..v3.3`, `main ^topic`); default HEAD. */
  readonly revisions?: readonly string[];
  readonly since?: string;
  readonly until?: string;
  /** Number of `git log` processes reading parts of the range at once (default 1). */
  readonly jobs?: number;
  /** Commits per part when the range is split (default 2000). */
  readonly chunkSize?: number;
  readonly cache?: CommitCache;
  readonly onCommit: (commit: CommitRecord) => void;
  readonly onProgress?: (commits: number) => void;
}

function revisionArgs(options: ReadRepoOptions): string[] {
  const revisions = options.revisions === undefined || options.revisions.length === 0 ? ['HEAD'] : options.revisions;
  for (const revision of revisions) {
    if (revision.startsWith('-')) {
      throw new DevStatsError('DEV_STATS_UNKNOWN_REVISION', `expected a revision or range, found the option-like "${revision}"`);
    }
  }
  const args: string[] = [];
  if (options.since !== undefined) args.push(`--since=${options.since}`);
  if (options.until !== undefined) args.push(`--until=${options.until}`);
  args.push('--end-of-options', ...revisions, '--');
  return args;
}

function parseInto(onCommit: (commit: CommitRecord) => void): {
  readonly onData: (chunk: Uint8Array) => void;
  readonly end: () => void;
} {
  const decoder = new LineDecoder();
  const parser = new GitFormatParser(onCommit);
  const line = (text: string): void => { parser.line(text); };
  return {
    onData: (chunk) => { decoder.push(chunk, line); },
    end: () => {
      decoder.end(line);
      parser.end();
    },
  };
}

/**
 * Streams the commits of a range out of a repository. With one job and no cache it is
 * a single `git log`; otherwise `git rev-list` lists the range, cached commits are
 * served from the cache, and the rest go in parts to up to `jobs` `git log --no-walk
 * --stdin` processes. Every listed commit is emitted exactly once.
 */
export async function readRepoCommits(options: ReadRepoOptions): Promise<void> {
  const jobs = Math.max(1, options.jobs ?? 1);
  let seen = 0;
  const emit = (commit: CommitRecord): void => {
    seen++;
    if (options.onProgress !== undefined && seen % 1000 === 0) options.onProgress(seen);
    options.onCommit(commit);
  };
  const cache = options.cache;
  const store = cache === undefined ? emit : (commit: CommitRecord): void => {
    cache.put(commit);
    emit(commit);
  };
  const revisions = revisionArgs(options);
  if (jobs === 1 && cache === undefined) {
    const sink = parseInto(emit);
    await streamGit(options.repo, [...GIT_LOG_ARGS, ...revisions], { onData: sink.onData });
    sink.end();
    options.onProgress?.(seen);
    return;
  }
  await readInParts(options, revisions, jobs, emit, store);
  cache?.flush();
  options.onProgress?.(seen);
}

async function readInParts(
  options: ReadRepoOptions,
  revisions: readonly string[],
  jobs: number,
  fromCache: (commit: CommitRecord) => void,
  fromGit: (commit: CommitRecord) => void,
): Promise<void> {
  const chunkSize = Math.max(1, options.chunkSize ?? 2000);
  const queue: string[][] = [];
  let chunk: string[] = [];
  let running = 0;
  let failure: unknown;
  let flow: { readonly pause: () => void; readonly resume: () => void } | undefined;
  let paused = false;
  let wake: (() => void) | undefined;

  const settle = (): void => {
    if (paused && (queue.length < jobs * 2 || failure !== undefined)) {
      paused = false;
      flow?.resume();
    }
    wake?.();
  };
  const startWorkers = (): void => {
    while (running < jobs && queue.length > 0 && failure === undefined) {
      const ids = queue.shift() ?? [];
      running++;
      const sink = parseInto(fromGit);
      streamGit(options.repo, [...GIT_LOG_ARGS, '--no-walk=unsorted', '--stdin'], { input: `${ids.join('\n')}\n`, onData: sink.onData })
        .then(() => { sink.end(); })
        .catch((error: unknown) => {
          failure ??= error;
        })
        .finally(() => {
          running--;
          startWorkers();
          settle();
        });
    }
  };
  const enqueue = (): void => {
    if (chunk.length === 0) return;
    queue.push(chunk);
    chunk = [];
    if (queue.length >= jobs * 2 && !paused) {
      paused = true;
      flow?.pause();
    }
    startWorkers();
  };

  const decoder = new LineDecoder();
  const onId = (line: string): void => {
    const id = line.trim();
    if (id === '' || failure !== undefined) return;
    const cached = options.cache?.get(id);
    if (cached !== undefined) {
      fromCache(cached);
      return;
    }
    chunk.push(id);
    if (chunk.length >= chunkSize) enqueue();
  };
  await streamGit(options.repo, ['rev-list', ...revisions], {
    onStart: (control) => {
      flow = control;
    },
    onData: (data) => { decoder.push(data, onId); },
  });
  decoder.end(onId);
  enqueue();
  while ((running > 0 || queue.length > 0) && failure === undefined) {
    await new Promise<void>((resolve) => {
      wake = resolve;
    });
  }
  // Let the remaining workers finish (or fail) before reporting.
  while (running > 0) {
    await new Promise<void>((resolve) => {
      wake = resolve;
    });
  }
  if (failure !== undefined) throw failure instanceof Error ? failure : new Error('a git process failed');
}
