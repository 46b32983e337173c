import { escapeHtml } from './escape.js';

export interface Bar {
  readonly label: string;
  readonly value: number;
}

export interface BarChartOptions {
  readonly unit?: string;
  readonly width?: number;
}

/** A horizontal bar chart; labels are escaped, so names from outside are safe to pass. */
export function barChart(bars: readonly Bar[], options: BarChartOptions = {}): string {
  const width = options.width ?? 640;
  const rowHeight = 22;
  const labelWidth = 220;
  const valueWidth = 110;
  const plotWidth = width - labelWidth - valueWidth;
  const max = Math.max(0, ...bars.map((bar) => bar.value));
  const height = bars.length * rowHeight + 8;
  const rows = bars.map((bar, i) => {
    const y = 4 + i * rowHeight;
    const length = max > 0 ? Math.max(0, (bar.value / max) * plotWidth) : 0;
    const value = `${bar.value.toLocaleString('en-US', { maximumFractionDigits: 2 })}${options.unit === undefined ? '' : ` ${options.unit}`}`;
    return [
      `<text x="${labelWidth - 6}" y="${y + 15}" text-anchor="end">${escapeHtml(bar.label)}</text>`,
      `<rect x="${labelWidth}" y="${y + 3}" width="${length.toFixed(1)}" height="${rowHeight - 6}" fill="#4a7ab5"/>`,
      `<text x="${(labelWidth + length + 6).toFixed(1)}" y="${y + 15}">${escapeHtml(value)}</text>`,
    ].join('');
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui,sans-serif" font-size="12">${rows.join('')}</svg>`;
}
