import { CLOCK_GHZ, cyclesToMicros } from '@kernsim/text-patching';
import type { CostCurveRow } from '@kernsim/text-patching';
import { color, groupedChart, lineChart } from '../ui/charts.js';
import { h } from '../ui/dom.js';

const NAMES = { 'stop-machine': 'stop_machine', breakpoint: 'breakpoint' } as const;
const us = (cycles: number): number => Number(cyclesToMicros(cycles).toFixed(2));

/** Cycles per CPU a term grows by between the smallest and largest CPU count measured. */
function slope(rows: readonly CostCurveRow[], term: (r: CostCurveRow) => number): number {
  const first = rows[0];
  const last = rows.at(-1);
  if (first === undefined || last === undefined || last.cpus === first.cpus) return 0;
  return Math.round((term(last) - term(first)) / (last.cpus - first.cpus));
}

/** The curve as charts (patch time, worst stall, stop_machine's terms) and a table, every figure from the runs. */
export function curveView(rows: readonly CostCurveRow[]): HTMLElement {
  const counts = [...new Set(rows.map((r) => r.cpus))];
  const labels = counts.map(String);
  const of = (method: CostCurveRow['method'], value: (r: CostCurveRow) => number): number[] => counts.map((n) => value(rows.find((r) => r.cpus === n && r.method === method)!));
  const both = (value: (r: CostCurveRow) => number) => (['stop-machine', 'breakpoint'] as const).map((m, i) => ({ name: NAMES[m], color: color(i), values: of(m, value) }));
  const sm = rows.filter((r) => r.method === 'stop-machine' && r.terms !== undefined);
  const terms = [
    { name: 'wake-up', color: color(2), values: of('stop-machine', (r) => us(r.terms?.wake ?? 0)) },
    { name: 'join', color: color(3), values: of('stop-machine', (r) => us(r.terms?.join ?? 0)) },
    { name: 'rendezvous', color: color(4), values: of('stop-machine', (r) => us(r.terms?.rendezvous ?? 0)) },
  ];
  const last = counts.at(-1) ?? 0;
  const worst = (m: CostCurveRow['method']): number => rows.find((r) => r.cpus === last && r.method === m)?.stallWorst ?? 0;
  const ratio = worst('breakpoint') > 0 ? (worst('stop-machine') / worst('breakpoint')).toFixed(1) : '—';
  return h(
    'div',
    { class: 'curve', 'data-testid': 'patch-curve' },
    h('h3', {}, `stop_machine against the breakpoint method, 2 to ${last} CPUs (modelled timing, µs at ${CLOCK_GHZ} GHz)`),
    h(
      'p',
      { class: 'note' },
      `One quiet ftrace patch of 4 sites per CPU count, the other CPUs running traced code. stop_machine's time is three terms the machine code stamps: wake-up (queue each stopper's work and send its IPI, one CPU after another: ${slope(sm, (r) => r.terms?.wake ?? 0)} cycles a CPU here), join (the IPI's latency and the slowest CPU's way to its next schedule point: about constant), rendezvous (every CPU acknowledges each state with a locked decrement of one shared word, the line moving CPU to CPU: ${slope(sm, (r) => r.terms?.rendezvous ?? 0)} cycles a CPU). Its worst stall is the whole patch; a CPU under the breakpoint method pays three IPI handlers and its int3 traps. At ${last} CPUs stop_machine's worst per-CPU stall is ${ratio} times the breakpoint method's.`,
    ),
    h(
      'div',
      { class: 'charts' },
      lineChart('Patch time by CPU count', labels, both((r) => us(r.patchCycles)), 'µs'),
      lineChart('Worst stall of one CPU by CPU count', labels, both((r) => us(r.stallWorst)), 'µs'),
      groupedChart("stop_machine's terms by CPU count", labels, terms, 'µs'),
    ),
    h(
      'table',
      { class: 'data', 'data-testid': 'patch-curve-table' },
      h('thead', {}, h('tr', {}, ...['method', 'CPUs', 'patch (cycles)', 'patch (µs)', 'stall worst (µs)', 'stall total (µs)', 'IPIs delivered', 'wake-up', 'join', 'rendezvous'].map((x) => h('th', {}, x)))),
      h('tbody', {}, ...rows.map((r) => h('tr', {}, ...[NAMES[r.method], r.cpus, r.patchCycles, us(r.patchCycles), us(r.stallWorst), us(r.stallTotal), r.ipisDelivered, r.terms?.wake ?? '', r.terms?.join ?? '', r.terms?.rendezvous ?? ''].map((c) => h('td', {}, String(c)))))),
    ),
  );
}
