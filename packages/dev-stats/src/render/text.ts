import type { StatsReport, Table } from '../report.js';
import { padEnd, padStart, printable, rowCells, width } from './format.js';
import { shown } from './shown.js';

function textTable(table: Table): string[] {
  const cells = table.rows.map(rowCells);
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

/** LWN's layout: a heading per group, one "By …" table after another. */
export function renderText(report: StatsReport): string {
  const scope = report.title === '' ? '' : ` (${printable(report.title)})`;
  const out = [summaryLine(report), ''];
  out.push(`Most active developers${scope}`, '');
  for (const table of report.developers.filter(shown)) out.push(...textTable(table), '');
  out.push(`Most active employers${scope}`, '');
  for (const table of report.employers.filter(shown)) out.push(...textTable(table), '');
  return `${out.join('\n').trimEnd()}\n`;
}
