import { escapeHtml } from './escape.js';

export interface Bar {
  readonly label: string;
  readonly value: number;
}

/** Horizontal bars with escaped labels. */
export function svgBarChart(bars: readonly Bar[], unit = ''): string {
  const width = 680;
  const row = 20;
  const labelWidth = 230;
  const plot = width - labelWidth - 120;
  const max = Math.max(0, ...bars.map((b) => b.value));
  const height = bars.length * row + 10;
  const body = bars.map((bar, i) => {
    const y = 5 + i * row;
    const length = max > 0 ? (bar.value / max) * plot : 0;
    const label = bar.label.length > 36 ? `${bar.label.slice(0, 35)}…` : bar.label;
    return (
      `<text x="${labelWidth - 6}" y="${y + 14}" text-anchor="end">${escapeHtml(label)}</text>` +
      `<rect x="${labelWidth}" y="${y + 3}" width="${length.toFixed(1)}" height="${row - 6}" fill="#3f6fae"/>` +
      `<text x="${(labelWidth + length + 5).toFixed(1)}" y="${y + 14}">${escapeHtml(`${bar.value}${unit}`)}</text>`
    );
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12" role="img">${body.join('')}</svg>`;
}

export interface Series {
  readonly label: string;
  readonly points: readonly number[];
}

/** A line chart over labelled x positions (e.g. releases); values are percentages or counts. */
export function svgLineChart(xLabels: readonly string[], series: readonly Series[], unit = ''): string {
  const width = 680;
  const height = 260;
  const left = 50;
  const right = 150;
  const top = 10;
  const bottom = 40;
  const max = Math.max(1e-9, ...series.flatMap((s) => s.points));
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const x = (i: number): number => left + (xLabels.length <= 1 ? plotW / 2 : (i * plotW) / (xLabels.length - 1));
  const y = (v: number): number => top + plotH - (v / max) * plotH;
  const colors = ['#3f6fae', '#c0504d', '#9bbb59', '#8064a2', '#f79646', '#4bacc6', '#7f7f7f'];
  const parts: string[] = [
    `<line x1="${left}" y1="${top + plotH}" x2="${left + plotW}" y2="${top + plotH}" stroke="#999"/>`,
    `<text x="${left - 4}" y="${top + 10}" text-anchor="end">${escapeHtml(`${Number(max.toFixed(1))}${unit}`)}</text>`,
    `<text x="${left - 4}" y="${top + plotH}" text-anchor="end">0</text>`,
  ];
  xLabels.forEach((label, i) => {
    parts.push(`<text x="${x(i).toFixed(1)}" y="${height - bottom + 16}" text-anchor="middle" font-size="10">${escapeHtml(label)}</text>`);
  });
  series.forEach((s, k) => {
    const color = colors[k % colors.length] ?? '#000';
    const points = s.points.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${points}"/>`);
    parts.push(`<text x="${width - right + 8}" y="${top + 14 + k * 16}" fill="${color}">${escapeHtml(s.label)}</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12" role="img">${parts.join('')}</svg>`;
}
