import { s } from '../ui/dom.js';
import type { StackView } from './view.js';

const COLORS: Readonly<Record<string, string>> = {
  'hardware frame': '#f4c7c3',
  'rdx temp': '#fce8b2',
  'NMI executing': '#f6b26b',
  'saved frame': '#b7e1cd',
  'copied frame': '#c9daf8',
  pt_regs: '#e8e8e8',
  'handler frames': '#ffffff',
  'interrupted code': '#f4f4f4',
};

/**
 * The NMI stack as the article draws it, from the machine at this step: one row per slot from
 * the top, named by the entry's layout (i386: each live frame's slots, and the nmi_state latch);
 * slots whose value differs from `previous` (the step shown before, same address) get a thick
 * red outline and a `*`.
 */
export function stackSvg(stack: StackView, previous: StackView | undefined): SVGSVGElement {
  const rowH = 17;
  const width = 560;
  const head = stack.latch ? 22 + rowH + 6 : 22;
  const svg = s('svg', { viewBox: `0 0 ${width} ${head + stack.slots.length * rowH + 4}`, class: 'stack', role: 'img', 'aria-label': stack.title, 'data-testid': `stack-cpu${stack.cpu}` });
  svg.append(s('text', { x: 4, y: 15, class: 'chart-title' }, stack.title));
  if (stack.latch) {
    // i386's latch lives in the per-CPU area, not on the stack: drawn apart, above it.
    const changed = previous?.latch !== undefined && previous.latch.value !== stack.latch.value;
    svg.append(
      s(
        'g',
        { 'data-testid': `nmi-state-cpu${stack.cpu}`, 'data-value': stack.latch.name, 'data-changed': changed ? 'yes' : 'no' },
        s('rect', { x: 2, y: 22, width: width - 4, height: rowH, fill: COLORS['NMI executing'], stroke: changed ? '#c00000' : '#aaa', 'stroke-width': changed ? 2.5 : 0.5 }),
        s('text', { x: 8, y: 34, 'font-weight': 'bold' }, 'nmi_state (per-CPU, off the stack)'),
        s('text', { x: 292, y: 34, class: 'mono' }, `${changed ? '* ' : ''}${stack.latch.name}`),
      ),
    );
  }
  const previousValues = previous === undefined ? undefined : new Map(previous.slots.map((x) => [x.address, x.value]));
  let lastRegion = '';
  stack.slots.forEach((slot, i) => {
    const region = slot.owner === '' ? slot.region : `${slot.owner} ${slot.region}`;
    const y = head + i * rowH;
    const before = previousValues?.get(slot.address);
    const changed = before !== undefined && before !== slot.value;
    const g = s('g', { 'data-region': slot.region, 'data-owner': slot.owner, 'data-field': slot.field, 'data-changed': changed ? 'yes' : 'no', 'data-value': slot.value, 'data-symbol': slot.symbol ?? '' });
    g.append(
      s('rect', { x: 2, y, width: width - 4, height: rowH, fill: COLORS[slot.region] ?? '#fff', stroke: changed ? '#c00000' : '#aaa', 'stroke-width': changed ? 2.5 : 0.5 }),
      s('text', { x: 8, y: y + 12, class: 'addr' }, slot.address.slice(-8)),
      s('text', { x: 84, y: y + 12, 'font-weight': region !== lastRegion ? 'bold' : 'normal' }, region !== lastRegion ? region : ''),
      s('text', { x: 214, y: y + 12 }, slot.field),
      s('text', { x: 292, y: y + 12, class: 'mono' }, `${changed ? '* ' : ''}${slot.symbol ?? slot.value}`),
    );
    lastRegion = region;
    svg.append(g);
  });
  return svg;
}
