import { isCalendarDate } from './date-option.js';
import { DevStatsError } from './errors.js';

const DAY = 86_400_000;

/** Days since 1970-01-01 of a `YYYY-MM-DD` date (UTC calendar arithmetic, no clock). */
export function dayNumber(date: string): number {
  const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(date);
  if (match === null || !isCalendarDate(Number(match[1]), Number(match[2]), Number(match[3]))) throw new DevStatsError('DEV_STATS_BAD_OPTION', `expected a date YYYY-MM-DD, found "${date}"`);
  const ms = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
  return Math.round(ms / DAY);
}

export function dateOfDay(day: number): string {
  return new Date(day * DAY).toISOString().slice(0, 10);
}
