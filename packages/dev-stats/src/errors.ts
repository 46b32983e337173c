/** Stable codes for everything dev-stats can reject; tests and callers match on `code`. */
export type DevStatsErrorCode =
  | 'DEV_STATS_NOT_A_REPOSITORY'
  | 'DEV_STATS_UNKNOWN_REVISION'
  | 'DEV_STATS_GIT_FAILED'
  | 'DEV_STATS_BAD_CONFIG'
  | 'DEV_STATS_BAD_LOG'
  | 'DEV_STATS_UNREADABLE'
  | 'DEV_STATS_UNWRITABLE'
  | 'DEV_STATS_NO_COMMITS'
  | 'DEV_STATS_BAD_OPTION'
  | 'DEV_STATS_NO_RELEASES';

export class DevStatsError extends Error {
  override readonly name = 'DevStatsError';
  readonly code: DevStatsErrorCode;

  constructor(code: DevStatsErrorCode, message: string, options?: { readonly cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
