import type { StatsReport, Table } from '../report.js';
import { escapeMarkdown } from './escape.js';
import { formatPercent } from './format.js';
import { shown } from './shown.js';
import { summaryLine } from './text.js';

function markdownTable(table: Table, what: string): string[] {
  const lines = [`### ${what}: ${table.title}`, ''];
  if (table.rows.length === 0) return [...lines, '(none)', ''];
  lines.push(`| ${what === 'Developers' ? 'Developer' : 'Employer'} | ${table.unit} | % |`, '|---|---:|---:|');
  for (const row of table.rows) lines.push(`| ${escapeMarkdown(row.name)} | ${row.count} | ${formatPercent(row.count, table.total)} |`);
  return [...lines, ''];
}

export function renderMarkdown(report: StatsReport): string {
  const heading = report.title === '' ? 'Development statistics' : `Development statistics: ${escapeMarkdown(report.title)}`;
  const out = [`# ${heading}`, '', escapeMarkdown(summaryLine(report)), '', '## Most active developers', ''];
  for (const table of report.developers.filter(shown)) out.push(...markdownTable(table, 'Developers'));
  out.push('## Most active employers', '');
  for (const table of report.employers.filter(shown)) out.push(...markdownTable(table, 'Employers'));
  return `${out.join('\n').trimEnd()}\n`;
}
