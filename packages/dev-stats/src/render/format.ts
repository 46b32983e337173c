import type { Row } from '../report.js';

export function formatPercent(percent: number): string {
  return `${percent.toFixed(1)}%`;
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

/** Control characters would let a name rewrite the terminal; show them as escapes. */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

export function rowCells(row: Row): readonly [string, string, string] {
  return [printable(row.name), String(row.count), formatPercent(row.percent)];
}
