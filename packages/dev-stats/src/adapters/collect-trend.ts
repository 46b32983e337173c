import { DevStatsError } from '../errors.js';
import { buildReport } from '../report.js';
import { buildTrend, type Trend, type TrendInput } from '../trend.js';
import { compareSeries, parseVersion } from '../versions.js';
import { type CollectOptions, collectStats, openCache } from './collect.js';
import { gitDir } from './git.js';
import { readTagDates } from './tags.js';

export interface TrendCollectOptions extends Omit<CollectOptions, 'log' | 'revisions' | 'since' | 'until'> {
  /** Number of release cycles (default 8). */
  readonly releases?: number;
  /** Last release of the series (default: the newest). */
  readonly to?: string;
  readonly employers?: readonly string[];
  readonly topEmployers?: number;
}

/** Reads each cycle `prev..release` over consecutive mainline releases into a trend. */
export async function collectTrend(options: TrendCollectOptions): Promise<Trend> {
  const repo = options.repo ?? '.';
  const tags = await readTagDates(repo);
  const releases = tags
    .map((t) => parseVersion(t.tag))
    .filter((v) => v?.kind === 'release')
    .sort((a, b) => compareSeries(a?.seriesNumbers ?? [], b?.seriesNumbers ?? []))
    .map((v) => v?.tag ?? '');
  let end = releases.length;
  if (options.to !== undefined) {
    end = releases.indexOf(options.to) + 1;
    if (end === 0) throw new DevStatsError('DEV_STATS_UNKNOWN_REVISION', `expected a release tag for --to, found "${options.to}"`);
  }
  const count = options.releases ?? 8;
  const chosen = releases.slice(Math.max(0, end - count - 1), end);
  if (chosen.length < 2) throw new DevStatsError('DEV_STATS_NO_RELEASES', `need at least two release tags for a trend, found ${chosen.length}`);
  const inputs: TrendInput[] = [];
  // One cache for all cycles: the file is read once.
  const cache = openCache(options.cache, options.cache === true ? await gitDir(repo) : undefined);
  let shared: string | CollectOptions['config'] = options.config;
  for (let i = 1; i < chosen.length; i++) {
    const range = `${chosen[i - 1] ?? ''}..${chosen[i] ?? ''}`;
    const { accumulator, config } = await collectStats({
      ...options,
      ...(shared === undefined ? {} : { config: shared }),
      ...(cache === undefined ? {} : { cache }),
      revisions: [range],
    });
    shared = config;
    inputs.push({ release: chosen[i] ?? '', report: buildReport(accumulator, { title: range, ...(config === undefined ? {} : { config }) }) });
  }
  return buildTrend(inputs, {
    ...(options.employers === undefined ? {} : { employers: options.employers }),
    ...(options.topEmployers === undefined ? {} : { top: options.topEmployers }),
  });
}
