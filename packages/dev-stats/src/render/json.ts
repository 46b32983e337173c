import type { StatsReport } from '../report.js';

export function renderJson(report: StatsReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
