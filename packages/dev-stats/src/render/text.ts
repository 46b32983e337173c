import type { StatsReport, Table } from '../report.js';
import { escapeControls } from './escape.js';
import { padEnd, padStart, rowCells, width } from './format.js';
import { shown } from './shown.js';

function textTable(table: Table): string[] {
  const cells = table.rows.map((row) => rowCells(row, table));
  const nameWidth = Math.max(20, ...cells.map(([name]) => width(name)));
  const countWidth = Math.max(5, ...cells.map(([, count]) => count.length));
  const lines = [table.title];
  if (cells.length === 0) lines.push('  (none)');
  for (const [name, count, percent] of cells) {
    lines.push(`  ${padEnd(name, nameWidth)} ${padStart(count, countWidth)} ${padStart(percent, 6)}`);
  }
  return lines;
}

export function summaryLine(report: StatsReport): string {
  const t = report.totals;
  return (
    `Processed ${t.changesets} changesets from ${t.developers} developers; ${t.employers} employers found; ` +
    `${t.added} lines added, ${t.removed} removed (delta ${t.net})` +
    (t.merges > 0 ? `; ${t.merges} merges not counted` : '')
  );
}

const SIDE_BY_SIDE_WIDTH = 100;

/** Two tables next to each other, as LWN prints changesets beside changed lines. */
function sideBySide(left: readonly string[], right: readonly string[]): string[] | undefined {
  const leftWidth = Math.max(...left.map(width));
  if (leftWidth + 4 + Math.max(...right.map(width)) > SIDE_BY_SIDE_WIDTH) return undefined;
  const lines: string[] = [];
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    lines.push(`${padEnd(left[i] ?? '', leftWidth)}    ${right[i] ?? ''}`.trimEnd());
  }
  return lines;
}

function group(tables: readonly Table[]): string[] {
  const shownTables = tables.filter(shown);
  const out: string[] = [];
  const [first, second, ...rest] = shownTables;
  const pair = first !== undefined && second !== undefined ? sideBySide(textTable(first), textTable(second)) : undefined;
  if (pair !== undefined) out.push(...pair, '');
  for (const table of pair === undefined ? shownTables : rest) out.push(...textTable(table), '');
  return out;
}

/**
 * LWN's layout: a heading per group; "By changesets" beside "By changed lines" when
 * both fit in 100 columns, then the other tables one after another.
 */
export function renderText(report: StatsReport): string {
  const scope = report.title === '' ? '' : ` (${escapeControls(report.title)})`;
  const out = [summaryLine(report), ''];
  out.push(`Most active developers${scope}`, '', ...group(report.developers));
  out.push(`Most active employers${scope}`, '', ...group(report.employers));
  return `${out.join('\n').trimEnd()}\n`;
}
