import {
  type CgroupFigures,
  type Comparison,
  compareDesigns,
  DESIGNS,
  type DyingSeries,
  PROFILES,
  RUNS,
  WORKLOAD_KINDS,
  type WorkloadId,
  type WorkloadResult,
} from '@kernsim/memcg-accounting';
import { escapeHtml } from '../report/escape.js';
import type { Block } from '../report/model.js';
import { barChart } from '../report/svg.js';
import { choiceOption, intOption } from './options.js';
import type { Section } from './section.js';

const NAMES: Record<string, string> = {
  costa: 'Costa 2012 (opt-in, SLUB)',
  souhlal: 'Souhlal 2012 (opt-out, SLAB)',
  objcg: 'today (obj_cgroup)',
};

const KIB = 1024;

function kib(bytes: number): number {
  return Math.round(bytes / KIB);
}

function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

function name(design: string): string {
  return NAMES[design] ?? design;
}

/** Isolation's neighbour: the quiet cgroup's failed allocations plus its dentries evicted by others' pressure. */
function neighbourHarm(r: WorkloadResult): number | null {
  if (r.workload !== 'isolation') return null;
  const quiet = r.cgroups.find((c) => c.name === 'quiet');
  return quiet === undefined ? null : quiet.failedAllocs + quiet.evicted;
}

function comparisonTable(results: readonly WorkloadResult[], title: string): Block {
  return {
    kind: 'table',
    title,
    columns: [
      { header: 'Workload' },
      { header: 'Design' },
      { header: 'Slab pages' },
      { header: 'Utilisation', align: 'right' },
      { header: 'Caches' },
      { header: 'Failed allocs' },
      { header: 'Shrinker calls' },
      { header: 'Uncharged KiB' },
      { header: 'Dead caches' },
      { header: 'Dead cgroups (obj_cgroups) alive' },
      { header: 'Limits held' },
      { header: 'Neighbour harmed' },
      { header: 'obj_exts KiB' },
    ],
    rows: results.map((r) => [
      r.workload,
      name(r.design),
      r.slabPages,
      pct(r.utilisation),
      r.caches,
      r.failedAllocs,
      r.shrinkerCalls,
      kib(r.escapedBytes),
      r.deadCaches,
      `${String(r.deadCgroupsAlive)} (${String(r.deadObjcgsAlive)})`,
      r.forcedCharges > 0 ? `yes, but ${String(r.forcedCharges)} forced` : r.limitsHeld ? 'yes' : 'no',
      neighbourHarm(r) ?? '-',
      kib(r.metadataBytes),
    ]),
  };
}

function accuracyTable(results: readonly WorkloadResult[], title: string): Block {
  const rows: (string | number)[][] = [];
  for (const r of results) {
    if (r.workload === 'many-cgroups') continue;
    for (const c of r.cgroups) rows.push([r.workload, name(r.design), c.name, c.counter, kib(c.charged), kib(c.used), ratio(c)]);
  }
  return {
    kind: 'table',
    title,
    columns: [
      { header: 'Workload' },
      { header: 'Design' },
      { header: 'Cgroup' },
      { header: 'Counter charged' },
      { header: 'Charged KiB' },
      { header: 'Used KiB' },
      { header: 'Charged/used', align: 'right' },
    ],
    rows,
  };
}

const BLOCKS = ' ▁▂▃▄▅▆▇█';

/** One line of block characters, a column per value, scaled to `max`. */
function sparkline(values: readonly number[], max: number): string {
  return values.map((v) => (max <= 0 ? BLOCKS[0] : BLOCKS[Math.round((v / max) * 8)] ?? '█')).join('');
}

interface Series {
  readonly label: string;
  readonly values: readonly number[];
}

/** Columns over time, one row per series, on a common scale; labels escaped. */
function columnChart(series: readonly Series[], unit: string, axis: string): string {
  const labelWidth = 220;
  const col = 14;
  const rowHeight = 64;
  const points = Math.max(1, ...series.map((s) => s.values.length));
  const max = Math.max(0, ...series.flatMap((s) => s.values));
  const note = `${axis}; tallest column = ${String(max)} ${unit}`;
  // About 7 pixels a character at 12 px keeps the caption inside the picture.
  const width = Math.max(labelWidth + points * col + 120, labelWidth + note.length * 7);
  const rows = series.map((s, i) => {
    const base = 8 + i * rowHeight + rowHeight - 12;
    const bars = s.values.map((v, k) => {
      const h = max > 0 ? (v / max) * (rowHeight - 16) : 0;
      return `<rect x="${String(labelWidth + k * col)}" y="${(base - h).toFixed(1)}" width="${String(col - 3)}" height="${h.toFixed(1)}" fill="#4a7ab5"/>`;
    });
    const last = s.values.at(-1) ?? 0;
    return [
      `<text x="${String(labelWidth - 6)}" y="${String(base)}" text-anchor="end">${escapeHtml(s.label)}</text>`,
      `<line x1="${String(labelWidth)}" y1="${String(base)}" x2="${String(labelWidth + points * col)}" y2="${String(base)}" stroke="#999"/>`,
      ...bars,
      `<text x="${String(labelWidth + points * col + 6)}" y="${String(base)}">${escapeHtml(`${String(last)} ${unit}`)}</text>`,
    ].join('');
  });
  const height = series.length * rowHeight + 28;
  const caption = `<text x="${String(labelWidth)}" y="${String(height - 6)}" fill="#555">${escapeHtml(note)}</text>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${String(width)}" height="${String(height)}" viewBox="0 0 ${String(width)} ${String(height)}" font-family="system-ui,sans-serif" font-size="12">${rows.join('')}${caption}</svg>`;
}

/** A series figure: SVG columns in HTML, block-character lines in the terminal. */
function seriesFigure(title: string, unit: string, series: readonly Series[], axis: string): Block {
  const max = Math.max(0, ...series.flatMap((s) => s.values));
  const width = Math.max(...series.map((s) => s.label.length));
  const lines = series.map((s) => `  ${s.label.padEnd(width)}  ${sparkline(s.values, max)}  ${String(s.values.at(-1) ?? 0)} ${unit}`);
  return { kind: 'figure', title, svg: columnChart(series, unit, axis), alt: [...lines, `  ${' '.repeat(width)}  ${axis}; full height = ${String(max)} ${unit}`].join('\n') };
}

/** A bar figure: SVG bars in HTML, block-character bars in the terminal. */
function barFigure(title: string, unit: string, bars: readonly { label: string; value: number }[]): Block {
  const max = Math.max(0, ...bars.map((b) => b.value));
  const width = Math.max(...bars.map((b) => b.label.length));
  const lines = bars.map((b) => {
    const eighths = max > 0 ? Math.round((b.value / max) * 40 * 8) : 0;
    const bar = '█'.repeat(Math.floor(eighths / 8)) + (eighths % 8 > 0 ? (' ▏▎▍▌▋▊▉'[eighths % 8] ?? '') : '');
    return `  ${b.label.padEnd(width)}  ${bar} ${b.value.toLocaleString('en-US', { maximumFractionDigits: 2 })} ${unit}`;
  });
  return { kind: 'figure', title, svg: barChart(bars, { unit }), alt: lines.join('\n') };
}

function ratio(c: CgroupFigures): string {
  return c.used === 0 ? '-' : (c.charged / c.used).toFixed(2);
}

function chart(results: readonly WorkloadResult[], workload: WorkloadId, title: string, unit: string, value: (r: WorkloadResult) => number): Block | null {
  const rows = results.filter((r) => r.workload === workload);
  if (rows.length === 0) return null;
  return barFigure(`${label(workload)} ${title}`, unit, rows.map((r) => ({ label: name(r.design), value: value(r) })));
}

/** "[worst case] many-cgroups:" — every figure says which kind of workload it comes from. */
function label(workload: WorkloadId | 'dying'): string {
  return `[${WORKLOAD_KINDS[workload]}] ${workload}:`;
}

function find(results: readonly WorkloadResult[], workload: WorkloadId, design: string): WorkloadResult | undefined {
  return results.find((r) => r.workload === workload && r.design === design);
}

/** The reading of the results, written from the numbers of this run. */
function reading(c: Comparison): string[] {
  const out: string[] = [];
  const many = DESIGNS.map((d) => find(c.results, 'many-cgroups', d)).filter((r) => r !== undefined);
  if (many.length > 0) {
    const best = many.reduce((a, b) => (a.slabPages <= b.slabPages ? a : b));
    const worst = many.reduce((a, b) => (a.slabPages >= b.slabPages ? a : b));
    out.push(
      `[worst case] Memory: with many small cgroups ${name(best.design)} needs ${String(best.slabPages)} slab pages (${pct(best.utilisation)} used) ` +
        `against ${String(worst.slabPages)} (${pct(worst.utilisation)}) for ${name(worst.design)}, which keeps ${String(worst.caches)} caches.`,
    );
  }
  const iso = DESIGNS.map((d) => find(c.results, 'isolation', d)).filter((r) => r !== undefined);
  for (const r of iso) {
    const noisy = r.cgroups.find((g) => g.name === 'noisy');
    out.push(
      `[worst case] Isolation, ${name(r.design)}: the flooding cgroup was charged ${String(kib(noisy?.charged ?? 0))} KiB for ${String(kib(noisy?.used ?? 0))} KiB used, ` +
        `${String(r.failedAllocs)} allocations failed, the shrinker ran ${String(r.shrinkerCalls)} times and the quiet neighbour lost ${String(neighbourHarm(r) ?? 0)} allocations or cached dentries.`,
    );
  }
  for (const d of DESIGNS) {
    const churn = find(c.results, 'churn', d);
    if (churn !== undefined) {
      out.push(
        `[worst case] Churn, ${name(d)}: ${String(churn.deadCaches)} dead caches and ${String(churn.deadCgroupsAlive)} removed cgroups still pinned ` +
          `(${String(churn.deadObjcgsAlive)} obj_cgroups) after ${String(churn.extra.containers ?? 0)} containers; the parent is charged ` +
          `${String(kib(churn.extra.containersCharged ?? 0))} KiB and the root ${String(kib(churn.extra.rootCharged ?? 0))} KiB for ${String(kib(churn.extra.orphanUsedBytes ?? 0))} KiB left behind.`,
      );
    }
  }
  const posted = c.souhlalAsPosted;
  if (posted !== null) {
    out.push(
      `[worst case] Churn, Souhlal as posted (charges dropped at removal): the root ends charged ${String(kib(posted.extra.rootCharged ?? 0))} KiB, ` +
        `${String(posted.extra.clampedUncharges ?? 0)} later uncharges clamped at zero.`,
    );
  }
  for (const d of DESIGNS) {
    const host = find(c.results, 'host', d);
    if (host === undefined) continue;
    const parts = host.cgroups.map((g) => `${g.name} ${String(kib(g.charged))} of ${String(kib(g.used))} KiB`);
    out.push(
      `[modelled host] ${name(d)} charges ${parts.join(', ')} (to the ${host.cgroups[0]?.counter ?? 'kmem'} counter), ` +
        `with ${String(host.slabPages)} slab pages at ${pct(host.utilisation)} in ${String(host.caches)} caches.`,
    );
  }
  for (const s of c.dying ?? []) {
    const last = s.samples.at(-1);
    const peak = Math.max(0, ...s.samples.map((x) => x.deadCgroupsAlive));
    if (last === undefined) continue;
    out.push(
      `[modelled host] Dying cgroups, ${name(s.design)}: after ${String(s.days)} days and ${String(last.containersStarted)} containers, ` +
        `${String(last.deadCgroupsAlive)} removed memory cgroups are still alive (peak ${String(peak)}), ${String(last.deadCaches)} dead caches, ` +
        `${String(last.deadObjcgsAlive)} obj_cgroups, for ${String(kib(last.leftBehindBytes))} KiB the containers left behind.`,
    );
  }
  for (const d of DESIGNS) {
    const p = c.pathCost[d];
    out.push(`Path cost, ${name(d)}: ${p.off.toFixed(2)} operations per allocation and free with accounting off, ${p.onUnused.toFixed(2)} on but unused, ${p.on.toFixed(2)} on.`);
  }
  return out;
}

/** Worst-case workloads: the synthetic stress tests, labelled as such, with their charts. */
function worstCaseBlocks(r: readonly WorkloadResult[]): Block[] {
  const worst = r.filter((x) => WORKLOAD_KINDS[x.workload] === 'worst case');
  if (worst.length === 0) return [];
  const blocks: Block[] = [
    { kind: 'heading', text: 'Worst cases (synthetic stress workloads)' },
    comparisonTable(worst, '[worst case] per design and workload'),
    accuracyTable(worst, '[worst case] KiB charged to a cgroup vs KiB its tasks really use (churn: the parent vs what removed containers left behind)'),
  ];
  for (const figure of [
    chart(worst, 'many-cgroups', 'slab memory of 200 cgroups x 30 caches x 3 objects', 'MiB', (x) => Math.round((x.slabPages * 4096) / 10485.76) / 100),
    chart(worst, 'many-cgroups', 'caches', 'caches', (x) => x.caches),
    chart(worst, 'isolation', 'bytes the flooding cgroup used without being charged', 'KiB', (x) => kib(x.escapedBytes)),
    chart(worst, 'churn', 'dead caches left', 'caches', (x) => x.deadCaches),
    chart(worst, 'atomic', 'packets dropped', 'packets', (x) => x.extra.dropped ?? 0),
  ]) {
    if (figure !== null) blocks.push(figure);
  }
  return blocks;
}

/** The modelled container host: per container type, what was charged against what is used. */
function hostBlocks(r: readonly WorkloadResult[]): Block[] {
  const host = r.filter((x) => x.workload === 'host');
  if (host.length === 0) return [];
  const share = (x: WorkloadResult): number => {
    const used = x.cgroups.reduce((sum, c) => sum + c.used, 0);
    return used === 0 ? 0 : Math.round((x.cgroups.reduce((sum, c) => sum + c.charged, 0) / used) * 1000) / 10;
  };
  return [
    { kind: 'heading', text: 'Modelled container host (web, database, DNS, build containers side by side)' },
    {
      kind: 'list',
      items: PROFILES.map((p) => `${p.label}: ${p.basis}.`),
    },
    comparisonTable(host, '[modelled host] per design'),
    accuracyTable(host, '[modelled host] kernel memory charged vs used, per container type (all containers of the type)'),
    barFigure('[modelled host] host: share of the kernel memory containers use that is charged to them', '%', host.map((x) => ({ label: name(x.design), value: share(x) }))),
    barFigure('[modelled host] host: slab memory', 'MiB', host.map((x) => ({ label: name(x.design), value: Math.round((x.slabPages * 4096) / 10485.76) / 100 }))),
  ];
}

/** The dying-cgroup series: a table of day-end samples and block/SVG charts over time. */
function dyingBlocks(dying: readonly DyingSeries[] | null): Block[] {
  if (dying === null || dying.length === 0) return [];
  const days = dying[0]?.days ?? 0;
  const dayEnds = (s: DyingSeries) => s.samples.filter((x) => x.hour > 0 && x.hour % 24 === 0);
  const rows = dying.flatMap((s) =>
    dayEnds(s).map((x) => [name(s.design), x.hour / 24, x.containersStarted, x.deadCgroupsAlive, x.deadCaches, x.deadObjcgsAlive, x.slabPages, kib(x.leftBehindBytes)]),
  );
  const axis = `one column per 6 hours, ${String(days)} days`;
  return [
    { kind: 'heading', text: `Dying cgroups over ${String(days)} days of container churn (modelled host)` },
    {
      kind: 'table',
      title: '[modelled host] dying: at the end of each day',
      columns: [
        { header: 'Design' },
        { header: 'Day' },
        { header: 'Containers started' },
        { header: 'Removed cgroups alive' },
        { header: 'Dead caches' },
        { header: 'Dead obj_cgroups' },
        { header: 'Slab pages' },
        { header: 'KiB left behind' },
      ],
      rows,
    },
    seriesFigure('[modelled host] dying: removed memory cgroups still alive', 'cgroups', dying.map((s) => ({ label: name(s.design), values: s.samples.map((x) => x.deadCgroupsAlive) })), axis),
    seriesFigure('[modelled host] dying: dead caches', 'caches', dying.map((s) => ({ label: name(s.design), values: s.samples.map((x) => x.deadCaches) })), axis),
    seriesFigure('[modelled host] dying: slab memory', 'pages', dying.map((s) => ({ label: name(s.design), values: s.samples.map((x) => x.slabPages) })), axis),
  ];
}

export const memcgSection: Section = {
  id: 'memcg',
  title: 'Two approaches to kernel memory accounting, measured (and the one the kernel uses today)',
  summary: 'Costa vs Souhlal (2012) vs obj_cgroup on worst cases and a modelled container host: pages, accuracy, isolation, dying cgroups, cost',
  options: [
    { flags: '--seed <n>', description: 'seed of the workloads', defaultValue: '2012' },
    { flags: '--scale <percent>', description: 'size of the workloads, 100 = the full run', defaultValue: '50' },
    { flags: '--workload <id>', description: `one of ${[...RUNS, 'all'].join(', ')}`, defaultValue: 'all' },
  ],
  run(options) {
    const seed = intOption(options, 'seed', 2012, { min: 0, max: 2 ** 31 - 1 });
    const scale = intOption(options, 'scale', 50, { min: 1, max: 400 }) / 100;
    const which = choiceOption(options, 'workload', [...RUNS, 'all'], 'all');
    const comparison = compareDesigns({ seed, scale }, which === 'all' ? RUNS : [which]);
    const r = comparison.results;
    const blocks: Block[] = [
      {
        kind: 'paragraph',
        text:
          'In February 2012 two patch sets proposed charging kernel memory to memory cgroups: Glauber Costa\'s (opt-in: ' +
          'caches registered with register_memcg_cache — in the posted set only the dentry cache — get a copy per cgroup, root untracked, ' +
          'charged to the kmem counter with an independent kmem limit and to the memory counter without one, a shrinker runs at the limit) and ' +
          'Suleiman Souhlal\'s (opt-out: every cache, split per cgroup on first use, split deferred in atomic context). ' +
          'The article ends: "it will be hard to know which approach will win out". Here both run, with today\'s per-object ' +
          'obj_cgroup design, on the same seeded workloads: worst cases built to stress each design, and a host modelled on real containers.',
      },
      ...worstCaseBlocks(r),
      ...hostBlocks(r),
      ...dyingBlocks(comparison.dying),
      { kind: 'heading', text: 'Allocation path' },
      {
        kind: 'table',
        title: 'Allocation path cost, abstract operations per allocation and free (counter updates, lookups, list moves)',
        columns: [{ header: 'Design' }, { header: 'Accounting off' }, { header: 'On, unused' }, { header: 'On' }],
        rows: DESIGNS.map((d) => [name(d), comparison.pathCost[d].off.toFixed(2), comparison.pathCost[d].onUnused.toFixed(2), comparison.pathCost[d].on.toFixed(2)]),
      },
      barFigure('Allocation path cost with accounting on', 'ops', DESIGNS.map((d) => ({ label: name(d), value: Math.round(comparison.pathCost[d].on * 100) / 100 }))),
      { kind: 'heading', text: 'Reading the results' },
      { kind: 'list', items: reading(comparison) },
    ];
    return { id: 'memcg', title: this.title, blocks, data: comparison };
  },
};
