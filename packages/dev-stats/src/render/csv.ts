import type { StatsReport } from '../report.js';
import { csvField } from './escape.js';

/** One row per table row: group, table, rank, name, count, percent, table total. */
export function renderCsv(report: StatsReport): string {
  const lines = ['group,table,rank,name,count,percent,total'];
  for (const [group, tables] of [['developers', report.developers], ['employers', report.employers]] as const) {
    for (const table of tables) {
      table.rows.forEach((row, index) => {
        lines.push([group, table.id, String(index + 1), csvField(row.name), String(row.count), ((table.total === 0 ? 0 : (row.count * 100) / table.total)).toFixed(2), String(table.total)].join(','));
      });
    }
  }
  return `${lines.join('\r\n')}\r\n`;
}
