import type { ReleaseStatus } from '../release.js';
import { csvField, escapeControls, escapeHtml, escapeMarkdown } from './escape.js';
import { htmlPage } from './html.js';
import { svgBarChart } from './svg.js';

function strip(tag: string): string {
  return tag.replace(/^v/, '');
}

/** The article's "Kernel release status" brief item, as sentences. */
export function releaseSentences(status: ReleaseStatus): string[] {
  const lines: string[] = [];
  if (status.current !== null) {
    lines.push(
      `The current development release is ${strip(status.current.latestRc)}, released on ${status.current.rcDate} ` +
        `(${status.current.rcs} release candidate${status.current.rcs === 1 ? '' : 's'} tagged in the ${status.current.series} cycle).`,
    );
  } else {
    lines.push('No release candidate is tagged after the last release.');
  }
  if (status.lastRelease !== null) {
    lines.push(`The last release was ${strip(status.lastRelease.tag)} on ${status.lastRelease.date}, ${status.lastRelease.daysAgo} days ago.`);
  }
  if (status.prediction !== null) {
    lines.push(
      `Predicted next release: ${status.prediction.date} ± ${status.prediction.spreadDays} days ` +
        `(mean cycle ${status.prediction.meanDays} days over the last ${status.prediction.basedOnCycles} cycle${status.prediction.basedOnCycles === 1 ? '' : 's'})` +
        (status.prediction.overdueDays > 0 ? `; ${status.prediction.overdueDays} days overdue.` : '.'),
    );
  }
  if (status.stable.length > 0) {
    lines.push(`Stable updates: ${status.stable.map((s) => `${strip(s.tag)} (${s.date})`).join(', ')}.`);
  }
  return lines.map(escapeControls);
}

function recentCycles(status: ReleaseStatus): ReleaseStatus['cycles'] {
  return status.cycles.slice(-12);
}

export function renderReleaseText(status: ReleaseStatus): string {
  const out = [`Release status (as of ${status.now})`, '', ...releaseSentences(status), '', 'Cycle lengths (recent)'];
  for (const cycle of recentCycles(status)) out.push(`  ${escapeControls(cycle.release).padEnd(14)} ${cycle.date}  ${String(cycle.days).padStart(4)} days`);
  return `${out.join('\n')}\n`;
}

export function renderReleaseMarkdown(status: ReleaseStatus): string {
  const out = [`# Release status (as of ${status.now})`, '', ...releaseSentences(status).map(escapeMarkdown), '', '| Release | Date | Days |', '|---|---|---:|'];
  for (const cycle of recentCycles(status)) out.push(`| ${escapeMarkdown(cycle.release)} | ${cycle.date} | ${cycle.days} |`);
  return `${out.join('\n')}\n`;
}

export function renderReleaseCsv(status: ReleaseStatus): string {
  return ['release,date,days', ...status.cycles.map((c) => `${csvField(c.release)},${c.date},${c.days}`)].join('\r\n') + '\r\n';
}

export function renderReleaseHtml(status: ReleaseStatus): string {
  const rows = recentCycles(status).map((c) => `<tr><td>${escapeHtml(c.release)}</td><td>${c.date}</td><td class="n">${c.days}</td></tr>`).join('');
  const chart = svgBarChart(recentCycles(status).map((c) => ({ label: c.release, value: c.days })), ' d');
  return htmlPage(
    'Release status',
    `<h1>Release status (as of ${escapeHtml(status.now)})</h1>${releaseSentences(status).map((s) => `<p>${escapeHtml(s)}</p>`).join('')}` +
      `<h2>Cycle lengths</h2><table><thead><tr><th>Release</th><th>Date</th><th>Days</th></tr></thead><tbody>${rows}</tbody></table>${chart}`,
  );
}
