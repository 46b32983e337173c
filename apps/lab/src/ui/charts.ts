import { s } from './dom.js';

export interface Bar {
  readonly label: string;
  readonly value: number;
}

export interface Series {
  readonly name: string;
  readonly color: string;
  readonly values: readonly number[];
}

const PALETTE = ['#3b6fb6', '#d0673a', '#4c9a5b', '#8d5bb4', '#c2a32a', '#5aa7b3'];

export function color(i: number): string {
  return PALETTE[i % PALETTE.length]!;
}

function fmt(v: number): string {
  return Math.abs(v) >= 10_000 ? `${(v / 1000).toFixed(0)}k` : Number.isInteger(v) ? String(v) : v.toFixed(2);
}

/** Horizontal bars with their values: one row per label. */
export function barChart(title: string, bars: readonly Bar[], unit: string): SVGSVGElement {
  const rowH = 22;
  const labelW = 230;
  const barW = 300;
  const max = Math.max(1, ...bars.map((b) => b.value));
  const height = 26 + bars.length * rowH;
  const svg = s('svg', { viewBox: `0 0 ${labelW + barW + 90} ${height}`, class: 'chart', role: 'img', 'aria-label': title });
  svg.append(s('text', { x: 0, y: 14, class: 'chart-title' }, `${title} (${unit})`));
  bars.forEach((b, i) => {
    const y = 22 + i * rowH;
    const w = Math.max(b.value > 0 ? 1 : 0, (b.value / max) * barW);
    svg.append(
      s('text', { x: labelW - 6, y: y + 14, 'text-anchor': 'end' }, b.label.length > 34 ? `${b.label.slice(0, 33)}…` : b.label),
      s('rect', { x: labelW, y: y + 3, width: w, height: rowH - 7, fill: color(i) }),
      s('text', { x: labelW + w + 4, y: y + 14 }, fmt(b.value)),
    );
  });
  return svg;
}

/** Grouped bars: for each x label, one bar per series (e.g. CPU counts × methods). */
export function groupedChart(title: string, labels: readonly string[], series: readonly Series[], unit: string, log = false): SVGSVGElement {
  const width = 640;
  const height = 240;
  const left = 56;
  const bottom = 200;
  const top = 36;
  const scale = (v: number): number => (log ? Math.log10(Math.max(1, v)) : v);
  const max = Math.max(1e-9, ...series.flatMap((x) => x.values.map(scale)));
  const groupW = (width - left - 10) / Math.max(1, labels.length);
  const barW = Math.max(2, (groupW - 8) / Math.max(1, series.length));
  const svg = s('svg', { viewBox: `0 0 ${width} ${height + 14 * Math.ceil(series.length / 3)}`, class: 'chart', role: 'img', 'aria-label': title });
  svg.append(s('text', { x: 0, y: 14, class: 'chart-title' }, `${title} (${unit}${log ? ', log scale' : ''})`));
  svg.append(s('line', { x1: left, y1: bottom, x2: width - 5, y2: bottom, stroke: '#888' }));
  labels.forEach((l, g) => {
    const gx = left + g * groupW + 4;
    svg.append(s('text', { x: gx + (groupW - 8) / 2, y: bottom + 14, 'text-anchor': 'middle' }, l));
    series.forEach((x, i) => {
      const v = x.values[g] ?? 0;
      const hgt = (scale(v) / max) * (bottom - top);
      const rect = s('rect', { x: gx + i * barW, y: bottom - hgt, width: barW - 1, height: hgt, fill: x.color });
      rect.append(s('title', {}, `${x.name}, ${l}: ${fmt(v)} ${unit}`));
      svg.append(rect, s('text', { x: gx + i * barW + (barW - 1) / 2, y: bottom - hgt - 3, 'text-anchor': 'middle', class: 'bar-value' }, fmt(v)));
    });
  });
  series.forEach((x, i) => {
    const lx = left + (i % 3) * 190;
    const ly = height + 2 + Math.floor(i / 3) * 14;
    svg.append(s('rect', { x: lx, y: ly - 9, width: 10, height: 10, fill: x.color }), s('text', { x: lx + 14, y: ly }, x.name));
  });
  return svg;
}

/** A line per series over the same x labels, a dot (with its value on hover) at each point. */
export function lineChart(title: string, labels: readonly string[], series: readonly Series[], unit: string): SVGSVGElement {
  const width = 640;
  const left = 56;
  const top = 30;
  const bottom = 200;
  const max = Math.max(1, ...series.flatMap((x) => x.values));
  const step = (width - left - 20) / Math.max(1, labels.length - 1);
  const svg = s('svg', { viewBox: `0 0 ${width} ${240 + 14 * series.length}`, class: 'chart', role: 'img', 'aria-label': title });
  svg.append(s('text', { x: 0, y: 14, class: 'chart-title' }, `${title} (${unit})`));
  svg.append(s('line', { x1: left, y1: bottom, x2: width - 10, y2: bottom, stroke: '#888' }));
  svg.append(s('text', { x: left - 4, y: top + 4, 'text-anchor': 'end' }, fmt(max)), s('text', { x: left - 4, y: bottom, 'text-anchor': 'end' }, '0'));
  labels.forEach((l, i) => {
    if (labels.length <= 12 || i % Math.ceil(labels.length / 12) === 0) svg.append(s('text', { x: left + i * step, y: bottom + 14, 'text-anchor': 'middle' }, l));
  });
  series.forEach((x, n) => {
    const at = (v: number, i: number): readonly [number, number] => [left + i * step, bottom - (v / max) * (bottom - top)];
    const pts = x.values.map((v, i) => at(v, i).join(',')).join(' ');
    svg.append(s('polyline', { points: pts, fill: 'none', stroke: x.color, 'stroke-width': 2 }));
    x.values.forEach((v, i) => {
      const [cx, cy] = at(v, i);
      const dot = s('circle', { cx, cy, r: 2.5, fill: x.color, class: 'point', 'data-series': x.name, 'data-label': labels[i] ?? '', 'data-value': v });
      dot.append(s('title', {}, `${x.name}, ${labels[i] ?? ''}: ${fmt(v)} ${unit}`));
      svg.append(dot);
    });
    svg.append(s('rect', { x: left, y: 226 + n * 14, width: 10, height: 10, fill: x.color }), s('text', { x: left + 14, y: 235 + n * 14 }, x.name));
  });
  return svg;
}
