import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { join } from 'node:path';
import { StatsAccumulator } from '../accumulator.js';
import { Attribution } from '../attribution.js';
import type { GitdmConfig } from '../gitdm-config.js';
import type { LogFormat } from '../log-parser.js';
import { Mailmap } from '../mailmap.js';
import type { CommitRecord } from '../model.js';
import { CACHE_FILE, type CommitCache, FileCommitCache } from './commit-cache.js';
import { explainingEmptyRepository, gitDir, readMailmapText } from './git.js';
import { loadGitdmConfig, loadMailmapFile } from './load-config.js';
import { readLogFile } from './read-log.js';
import { readRepoCommits } from './read-repo.js';

export interface CollectOptions {
  /** Repository to read (default: the current directory's). Ignored when `log` is set. */
  readonly repo?: string;
  readonly revisions?: readonly string[];
  readonly since?: string;
  readonly until?: string;
  /** A saved log file (`-` for stdin) instead of a repository. */
  readonly log?: string;
  readonly logFormat?: LogFormat;
  readonly stdin?: Readable;
  /** Path of a gitdm.config, or an already-parsed configuration. */
  readonly config?: string | GitdmConfig;
  /** A mailmap file; by default the repository's own `.mailmap` (none for saved logs). */
  readonly mailmap?: string;
  readonly countAuthorSignoffs?: boolean;
  readonly jobs?: number;
  /** Parts the range is split into for parallel reading (default: `jobs`). */
  readonly parts?: number;
  /**
   * Commit cache: true keeps it in `<git dir>/dev-stats/`, a string names a directory, or
   * an open cache to share between calls; default none.
   */
  readonly cache?: boolean | string | CommitCache;
  readonly onProgress?: (commits: number) => void;
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Opens the commit cache `option` asks for (`dir` is the repository's git directory). */
export function openCache(option: CollectOptions['cache'], dir?: string): CommitCache | undefined {
  if (option === undefined || option === false) return undefined;
  if (typeof option === 'object') return option;
  const base = option === true ? join(dir ?? '.', 'dev-stats') : option;
  return new FileCommitCache(join(base, CACHE_FILE));
}

export interface Collected {
  readonly accumulator: StatsAccumulator;
  readonly config: GitdmConfig | undefined;
}

/** Reads a repository range or a saved log into a fresh accumulator. */
export async function collectStats(options: CollectOptions): Promise<Collected> {
  const config = typeof options.config === 'string' ? loadGitdmConfig(options.config) : options.config;
  const repo = options.repo ?? '.';
  let mailmap: Mailmap;
  let dir: string | undefined;
  if (options.log === undefined) dir = await gitDir(repo);
  if (options.mailmap !== undefined) mailmap = loadMailmapFile(options.mailmap);
  else if (options.log === undefined) mailmap = Mailmap.parse(await readMailmapText(repo, readOptional));
  else mailmap = new Mailmap();
  const accumulator = new StatsAccumulator(new Attribution(mailmap, config), {
    ...(options.countAuthorSignoffs === undefined ? {} : { countAuthorSignoffs: options.countAuthorSignoffs }),
  });
  const onCommit = (commit: CommitRecord, position?: number): void => { accumulator.add(commit, position); };
  if (options.log !== undefined) {
    let read = 0;
    const progress = options.onProgress;
    const counted = progress === undefined ? onCommit : (commit: CommitRecord): void => {
      onCommit(commit);
      if (++read % 1000 === 0) progress(read);
    };
    await readLogFile(options.log, counted, {
      ...(options.logFormat === undefined ? {} : { format: options.logFormat }),
      ...(options.stdin === undefined ? {} : { stdin: options.stdin }),
    });
    return { accumulator, config };
  }
  const cache = openCache(options.cache, dir);
  await explainingEmptyRepository(repo, () => readRepoCommits({
    repo,
    onCommit,
    ...(options.revisions === undefined ? {} : { revisions: options.revisions }),
    ...(options.since === undefined ? {} : { since: options.since }),
    ...(options.until === undefined ? {} : { until: options.until }),
    ...(options.jobs === undefined ? {} : { jobs: options.jobs }),
    ...(options.parts === undefined ? {} : { parts: options.parts }),
    ...(cache === undefined ? {} : { cache }),
    ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
  }));
  return { accumulator, config };
}
