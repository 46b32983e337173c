import type { Row, Table } from '../report.js';
import { escapeControls } from './escape.js';

/**
 * `value` with one decimal, rounded as C's printf (and so gitdm's `%.1f`) rounds: to the
 * nearest, and an exact half to the even digit. `toFixed` rounds an exact half up, which
 * differs for values such as 1.25 (exactly representable, so a real tie).
 */
export function fixed1(value: number): string {
  const quarter = value * 4;
  if (Number.isInteger(quarter) && !Number.isInteger(value * 2)) {
    const tenths = value * 10; // exact: n + 0.5
    const down = Math.floor(tenths);
    return ((down % 2 === 0 ? down : down + 1) / 10).toFixed(1);
  }
  return value.toFixed(1);
}

/** The share `count / total` as a percentage with one decimal, rounded once, here. */
export function formatPercent(count: number, total: number): string {
  return `${fixed1(total === 0 ? 0 : (count * 100) / total)}%`;
}

/** Display width of a string (code points; good enough for names in a terminal). */
export function width(text: string): number {
  return Array.from(text).length;
}

export function padEnd(text: string, size: number): string {
  return text + ' '.repeat(Math.max(0, size - width(text)));
}

export function padStart(text: string, size: number): string {
  return ' '.repeat(Math.max(0, size - width(text))) + text;
}

export function rowCells(row: Row, table: Table): readonly [string, string, string] {
  return [escapeControls(row.name), String(row.count), formatPercent(row.count, table.total)];
}
