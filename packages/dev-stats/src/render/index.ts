import type { ReleaseStatus } from '../release.js';
import type { StatsReport } from '../report.js';
import type { Trend } from '../trend.js';
import { renderCsv } from './csv.js';
import { renderHtml } from './html.js';
import { renderJson } from './json.js';
import { renderMarkdown } from './markdown.js';
import { renderReleaseCsv, renderReleaseHtml, renderReleaseMarkdown, renderReleaseText } from './release.js';
import { renderText } from './text.js';
import { renderTrendCsv, renderTrendHtml, renderTrendMarkdown, renderTrendText } from './trend.js';

export const OUTPUT_FORMATS = ['text', 'markdown', 'csv', 'json', 'html'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** The statistics tables in one of the output formats (HTML is a whole page). */
export function renderReport(report: StatsReport, format: OutputFormat): string {
  switch (format) {
    case 'text':
      return renderText(report);
    case 'markdown':
      return renderMarkdown(report);
    case 'csv':
      return renderCsv(report);
    case 'json':
      return renderJson(report);
    case 'html':
      return renderHtml(report);
  }
}

export function renderReleaseStatus(status: ReleaseStatus, format: OutputFormat): string {
  switch (format) {
    case 'text':
      return renderReleaseText(status);
    case 'markdown':
      return renderReleaseMarkdown(status);
    case 'csv':
      return renderReleaseCsv(status);
    case 'json':
      return `${JSON.stringify(status, null, 2)}\n`;
    case 'html':
      return renderReleaseHtml(status);
  }
}

export function renderTrend(trend: Trend, format: OutputFormat): string {
  switch (format) {
    case 'text':
      return renderTrendText(trend);
    case 'markdown':
      return renderTrendMarkdown(trend);
    case 'csv':
      return renderTrendCsv(trend);
    case 'json':
      return `${JSON.stringify(trend, null, 2)}\n`;
    case 'html':
      return renderTrendHtml(trend);
  }
}
