import type { StatsReport, Table } from '../report.js';
import { escapeHtml } from './escape.js';
import { formatPercent } from './format.js';
import { shown } from './shown.js';
import { svgBarChart } from './svg.js';
import { summaryLine } from './text.js';

const STYLE =
  'body{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}' +
  'table{border-collapse:collapse;margin:.5rem 0 1.5rem}td,th{padding:.15rem .6rem;border-bottom:1px solid #ddd}' +
  'td.n{text-align:right;font-variant-numeric:tabular-nums}h3{margin-bottom:.2rem}';

function htmlTable(table: Table, who: string): string {
  const rows = table.rows
    .map((row) => `<tr><td>${escapeHtml(row.name)}</td><td class="n">${row.count}</td><td class="n">${formatPercent(row.count, table.total)}</td></tr>`)
    .join('');
  const chart = table.rows.length === 0 ? '' : svgBarChart(table.rows.slice(0, 20).map((row) => ({ label: row.name, value: row.count })));
  return (
    `<section><h3>${escapeHtml(table.title)}</h3>` +
    (table.rows.length === 0
      ? '<p>(none)</p>'
      : `<table><thead><tr><th>${who}</th><th>${escapeHtml(table.unit)}</th><th>%</th></tr></thead><tbody>${rows}</tbody></table>${chart}`) +
    '</section>'
  );
}

/** Wraps body HTML into one self-contained page (no scripts, no external resources). */
export function htmlPage(title: string, body: string): string {
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>` +
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">` +
    `<style>${STYLE}</style></head><body>${body}</body></html>\n`
  );
}

export function renderHtml(report: StatsReport): string {
  const title = report.title === '' ? 'Development statistics' : `Development statistics: ${report.title}`;
  const body =
    `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(summaryLine(report))}</p>` +
    `<h2>Most active developers</h2>${report.developers.filter(shown).map((t) => htmlTable(t, 'Developer')).join('')}` +
    `<h2>Most active employers</h2>${report.employers.filter(shown).map((t) => htmlTable(t, 'Employer')).join('')}`;
  return htmlPage(title, body);
}
