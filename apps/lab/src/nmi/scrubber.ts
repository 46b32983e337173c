import { s } from '../ui/dom.js';
import type { RunSummary } from './summary.js';

const MARK_COLOR: Readonly<Record<string, string>> = {
  delivery: '#3b6fb6',
  iret: '#4c9a5b',
  fault: '#d0673a',
  overwrite: '#c00000',
  'corrupted-return': '#c00000',
  panic: '#000000',
  death: '#000000',
  'nmi-raised': '#8d5bb4',
  violation: '#ff0000',
};

/** The whole run as a strip: a tick per marked event (hover for its text), the current step as a line; click seeks. */
export function timeline(summary: RunSummary, step: number, onSeek: (step: number) => void): SVGSVGElement {
  const width = 1000;
  const height = 34;
  const x = (n: number): number => (summary.steps === 0 ? 0 : (n / summary.steps) * width);
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: 'none', class: 'timeline', 'data-testid': 'timeline', role: 'img', 'aria-label': `${summary.marks.length} events over ${summary.steps} steps` });
  svg.append(s('rect', { x: 0, y: 0, width, height, fill: '#f4f4f4' }));
  for (const e of summary.marks) {
    const tall = e.kind === 'delivery' || e.kind === 'violation';
    const tick = s('rect', { x: x(e.step) - 1, y: tall ? 2 : 10, width: e.kind === 'violation' ? 5 : 2.5, height: tall ? 30 : 20, fill: MARK_COLOR[e.kind] ?? '#666', 'data-kind': e.kind });
    tick.append(s('title', {}, `step ${e.step}, CPU ${e.cpu}: ${e.text}`));
    svg.append(tick);
  }
  svg.append(s('rect', { x: x(step) - 1.5, y: 0, width: 3, height, fill: '#e3a000', 'data-testid': 'timeline-now' }));
  svg.addEventListener('click', (ev) => {
    const box = svg.getBoundingClientRect();
    onSeek(Math.round(((ev.clientX - box.left) / box.width) * summary.steps));
  });
  return svg;
}
