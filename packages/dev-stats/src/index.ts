// Core: parsing, attribution, aggregation and rendering. No I/O.
export { DevStatsError } from './errors.js';
export type { DevStatsErrorCode } from './errors.js';
export type { CommitRecord, Trailer, TrailerKind } from './model.js';
export { LineDecoder } from './line-decoder.js';
export { GIT_LOG_ARGS, GIT_LOG_FORMAT, GitFormatParser } from './git-format.js';
export { GitdmLogParser } from './gitdm-log.js';
export { LogParser } from './log-parser.js';
export type { LogFormat } from './log-parser.js';
export { Mailmap } from './mailmap.js';
export type { Identity } from './mailmap.js';
export { emptyGitdmConfig, parseGitdmConfig } from './gitdm-config.js';
export type { EmployerSpan, GitdmConfig, VirtualSplit } from './gitdm-config.js';
export { Attribution, NONE_EMPLOYER, UNKNOWN_EMPLOYER } from './attribution.js';
export { StatsAccumulator } from './accumulator.js';
export type { AccumulatorOptions } from './accumulator.js';
export { REPORT_SCHEMA, buildReport } from './report.js';
export type { ReportOptions, Row, StatsReport, StatsTotals, Table } from './report.js';
export { parseVersion } from './versions.js';
export type { Version } from './versions.js';
export { releaseStatus } from './release.js';
export type { ReleaseCycle, ReleaseOptions, ReleaseStatus, StableUpdate, TagDate } from './release.js';
export { buildTrend } from './trend.js';
export type { Trend, TrendInput, TrendOptions, TrendPoint } from './trend.js';
export { OUTPUT_FORMATS, renderReleaseStatus, renderReport, renderTrend } from './render/index.js';
export type { OutputFormat } from './render/index.js';

// Adapters: git processes, files, streams.
export { collectStats } from './adapters/collect.js';
export type { CollectOptions, Collected } from './adapters/collect.js';
export { collectTrend } from './adapters/collect-trend.js';
export type { TrendCollectOptions } from './adapters/collect-trend.js';
export { readTagDates } from './adapters/tags.js';
export { readRepoCommits } from './adapters/read-repo.js';
export type { ReadRepoOptions } from './adapters/read-repo.js';
export { readLogFile, readLogStream } from './adapters/read-log.js';
export { FileCommitCache } from './adapters/commit-cache.js';
export type { CommitCache } from './adapters/commit-cache.js';
export { loadGitdmConfig } from './adapters/load-config.js';
