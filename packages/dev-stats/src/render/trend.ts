import { shareOf, type Trend } from '../trend.js';
import { csvField, escapeControls, escapeHtml, escapeMarkdown } from './escape.js';
import { htmlPage } from './html.js';
import { fixed1, padEnd, padStart } from './format.js';
import { svgLineChart } from './svg.js';

function header(trend: Trend): string[] {
  return ['Release', 'Changesets', 'Developers', 'Employers', ...trend.employers.map((e) => `${e} %`)];
}

function cells(trend: Trend): string[][] {
  return trend.points.map((p) => [
    p.release,
    String(p.changesets),
    String(p.developers),
    String(p.employers),
    ...trend.employers.map((e) => fixed1(shareOf(p, e))),
  ]);
}

export function renderTrendText(trend: Trend): string {
  const head = header(trend).map(escapeControls);
  const body = cells(trend).map((row) => row.map(escapeControls));
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] ?? '').length)));
  const line = (row: readonly string[]): string =>
    row.map((cell, i) => (i === 0 ? padEnd(cell, widths[i] ?? 0) : padStart(cell, widths[i] ?? 0))).join('  ').trimEnd();
  return `Trend over ${trend.points.length} releases\n\n${[line(head), ...body.map(line)].join('\n')}\n${textChart(trend)}`;
}

/** The article's chart in characters: the first followed employer's share per release. */
function textChart(trend: Trend): string {
  const employer = trend.employers[0];
  if (employer === undefined || trend.points.length === 0) return '';
  const shares = trend.points.map((p) => shareOf(p, employer));
  const max = Math.max(...shares);
  const labelWidth = Math.max(...trend.points.map((p) => escapeControls(p.release).length));
  const rows = trend.points.map((p, i) => {
    const share = shares[i] ?? 0;
    const bar = '#'.repeat(max > 0 ? Math.round((share / max) * 40) : 0);
    return `  ${padEnd(escapeControls(p.release), labelWidth)} ${padStart(fixed1(share), 5)}% ${bar}`;
  });
  return `\nShare of changesets from ${escapeControls(employer)}\n${rows.join('\n')}\n`;
}

export function renderTrendMarkdown(trend: Trend): string {
  const head = header(trend).map(escapeMarkdown);
  const rows = cells(trend).map((row) => `| ${row.map(escapeMarkdown).join(' | ')} |`);
  return `# Trend over ${trend.points.length} releases\n\n| ${head.join(' | ')} |\n|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|\n${rows.join('\n')}\n`;
}

export function renderTrendCsv(trend: Trend): string {
  return [header(trend).map(csvField).join(','), ...cells(trend).map((row) => row.map(csvField).join(','))].join('\r\n') + '\r\n';
}

export function renderTrendHtml(trend: Trend): string {
  const head = header(trend).map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const rows = cells(trend)
    .map((row) => `<tr>${row.map((cell, i) => (i === 0 ? `<td>${escapeHtml(cell)}</td>` : `<td class="n">${escapeHtml(cell)}</td>`)).join('')}</tr>`)
    .join('');
  const labels = trend.points.map((p) => p.release);
  const shares = svgLineChart(labels, trend.employers.map((e) => ({ label: e, points: trend.points.map((p) => p.shares[e] ?? 0) })), '%');
  const sizes = svgLineChart(labels, [
    { label: 'changesets', points: trend.points.map((p) => p.changesets) },
  ]);
  const people = svgLineChart(labels, [
    { label: 'developers', points: trend.points.map((p) => p.developers) },
    { label: 'employers', points: trend.points.map((p) => p.employers) },
  ]);
  return htmlPage(
    'Release trend',
    `<h1>Trend over ${trend.points.length} releases</h1><table><thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table>` +
      `<h2>Share of changesets by employer</h2>${shares}<h2>Changesets</h2>${sizes}<h2>Developers and employers</h2>${people}`,
  );
}
