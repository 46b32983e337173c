import { DevStatsError } from './errors.js';

/**
 * git takes any string as a date and reads what it cannot parse as "now" (`--since=notadate`
 * silently selects nothing, `2020-13-45` rolls into 2020-12), so dev-stats accepts only forms
 * whose meaning is unambiguous and refuses the rest before git sees them.
 */
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?(?:Z|[+-]\d{2}:?\d{2})?)?$/;
const RELATIVE = /^\d+[ .](?:second|minute|hour|day|week|month|year)s?[ .]ago$/;
const WORDS = new Set(['now', 'yesterday']);

/** Whether `year-month-day` names a day of the calendar (no rolling over of months or days). */
export function isCalendarDate(year: number, month: number, day: number): boolean {
  const at = new Date(Date.UTC(year, month - 1, day));
  return at.getUTCFullYear() === year && at.getUTCMonth() === month - 1 && at.getUTCDate() === day;
}

/** Returns `value` if it is a date dev-stats hands to git as `--since`/`--until`; throws DEV_STATS_BAD_OPTION otherwise. */
export function checkDateOption(option: string, value: string): string {
  const v = value.trim();
  if (WORDS.has(v) || RELATIVE.test(v) || /^@\d+$/.test(v)) return v;
  const m = ISO.exec(v);
  const timeOk = m !== null && (m[4] === undefined || (Number(m[4]) < 24 && Number(m[5]) < 60 && Number(m[6] ?? 0) < 60));
  if (m !== null && timeOk && isCalendarDate(Number(m[1]), Number(m[2]), Number(m[3]))) return v;
  throw new DevStatsError(
    'DEV_STATS_BAD_OPTION',
    `${option} must be a date YYYY-MM-DD (optionally with THH:MM[:SS] and a zone), @<unix seconds>, "<n> <unit>s ago", now or yesterday; got "${value}"`,
  );
}
