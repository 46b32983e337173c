import { CLOCK_GHZ, cyclesToMicros } from '@kernsim/text-patching';
import type { CostCurveRow } from '@kernsim/text-patching';
import type { Block } from '../report/model.js';
import { barChart } from '../report/svg.js';

const NAMES = { 'stop-machine': 'stop_machine', breakpoint: 'breakpoint' } as const;

/** Horizontal bars of block characters (eighths), for the terminal. */
export function blockBars(bars: readonly { readonly label: string; readonly value: number }[], unit: string, width = 40): string {
  const max = Math.max(0, ...bars.map((b) => b.value));
  const labelWidth = Math.max(0, ...bars.map((b) => b.label.length));
  return bars
    .map((b) => {
      const eighths = max > 0 ? Math.round((b.value / max) * width * 8) : 0;
      const bar = '█'.repeat(Math.floor(eighths / 8)) + (eighths % 8 > 0 ? '▏▎▍▌▋▊▉'[(eighths % 8) - 1]! : '');
      return `${b.label.padEnd(labelWidth)}  ${bar} ${b.value.toLocaleString('en-US', { maximumFractionDigits: 1 })} ${unit}`;
    })
    .join('\n');
}

function figure(title: string, rows: readonly CostCurveRow[], value: (r: CostCurveRow) => number, unit: string): Block[] {
  const bars = rows.map((r) => ({ label: `${NAMES[r.method]} ${String(r.cpus)} CPUs`, value: value(r) }));
  return [
    { kind: 'figure', title, svg: barChart(bars, { unit }), alt: bars.map((b) => `${b.label}: ${b.value.toFixed(1)} ${unit}`).join(', ') },
    { kind: 'pre', title: `${title} (terminal)`, text: blockBars(bars, unit) },
  ];
}

/** stop_machine against the breakpoint method by CPU count, under the modelled timing. */
export function costCurveBlocks(rows: readonly CostCurveRow[]): Block[] {
  const largest = Math.max(...rows.map((r) => r.cpus));
  const at = (method: CostCurveRow['method']): CostCurveRow | undefined => rows.find((r) => r.cpus === largest && r.method === method);
  const sm = at('stop-machine');
  const bp = at('breakpoint');
  const ratio = sm && bp && bp.stallWorst > 0 ? sm.stallWorst / bp.stallWorst : undefined;
  const us = (cycles: number): number => Number(cyclesToMicros(cycles).toFixed(2));
  return [
    {
      kind: 'table',
      title: `Cost by CPU count, modelled timing (cycles; µs at ${String(CLOCK_GHZ)} GHz). stop_machine's terms: waking each stopper in turn, until the last one joined, the rendezvous after`,
      columns: [
        { header: 'Method' },
        { header: 'CPUs' },
        { header: 'Patch (cycles)' },
        { header: 'Patch (µs)' },
        { header: 'Stall total (µs)' },
        { header: 'Stall worst (µs)' },
        { header: 'IPIs delivered' },
        { header: 'Wake-up' },
        { header: 'Join' },
        { header: 'Rendezvous' },
      ],
      rows: rows.map((r) => [
        NAMES[r.method],
        r.cpus,
        r.patchCycles,
        us(r.patchCycles),
        us(r.stallTotal),
        us(r.stallWorst),
        r.ipisDelivered,
        r.terms?.wake ?? '',
        r.terms?.join ?? '',
        r.terms?.rendezvous ?? '',
      ]),
    },
    ...figure(`Patch time by CPU count (µs at ${String(CLOCK_GHZ)} GHz)`, rows, (r) => cyclesToMicros(r.patchCycles), 'µs'),
    ...figure(`Worst stall of one CPU by CPU count (µs at ${String(CLOCK_GHZ)} GHz)`, rows, (r) => cyclesToMicros(r.stallWorst), 'µs'),
    {
      kind: 'paragraph',
      text:
        ratio === undefined
          ? 'Run both methods to compare their stalls.'
          : `At ${String(largest)} CPUs stop_machine's worst per-CPU stall is ${ratio.toFixed(2)} times the breakpoint method's ` +
            `(${us(sm!.stallWorst).toLocaleString('en-US')} µs against ${us(bp!.stallWorst).toLocaleString('en-US')} µs).`,
    },
  ];
}
