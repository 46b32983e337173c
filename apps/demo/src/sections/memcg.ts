import {
  type CgroupFigures,
  type Comparison,
  compareDesigns,
  DESIGNS,
  WORKLOADS,
  type WorkloadId,
  type WorkloadResult,
} from '@kernsim/memcg-accounting';
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

function comparisonTable(results: readonly WorkloadResult[]): Block {
  return {
    kind: 'table',
    title: 'Per design and workload',
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

function accuracyTable(results: readonly WorkloadResult[]): Block {
  const rows: (string | number)[][] = [];
  for (const r of results) {
    if (r.workload === 'many-cgroups') continue;
    for (const c of r.cgroups) rows.push([r.workload, name(r.design), c.name, kib(c.charged), kib(c.used), ratio(c)]);
  }
  return {
    kind: 'table',
    title: 'Accuracy: KiB charged to a cgroup vs KiB its tasks really use (churn: the parent vs what removed containers left behind)',
    columns: [{ header: 'Workload' }, { header: 'Design' }, { header: 'Cgroup' }, { header: 'Charged KiB' }, { header: 'Used KiB' }, { header: 'Charged/used', align: 'right' }],
    rows,
  };
}

function ratio(c: CgroupFigures): string {
  return c.used === 0 ? '-' : (c.charged / c.used).toFixed(2);
}

function chart(results: readonly WorkloadResult[], workload: WorkloadId, title: string, unit: string, value: (r: WorkloadResult) => number): Block | null {
  const rows = results.filter((r) => r.workload === workload);
  if (rows.length === 0) return null;
  const bars = rows.map((r) => ({ label: name(r.design), value: value(r) }));
  return {
    kind: 'figure',
    title,
    svg: barChart(bars, { unit }),
    alt: bars.map((b) => `${b.label}: ${String(b.value)} ${unit}`).join('; '),
  };
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
      `Memory: with many small cgroups ${name(best.design)} needs ${String(best.slabPages)} slab pages (${pct(best.utilisation)} used) ` +
        `against ${String(worst.slabPages)} (${pct(worst.utilisation)}) for ${name(worst.design)}, which keeps ${String(worst.caches)} caches.`,
    );
  }
  const iso = DESIGNS.map((d) => find(c.results, 'isolation', d)).filter((r) => r !== undefined);
  for (const r of iso) {
    const noisy = r.cgroups.find((g) => g.name === 'noisy');
    out.push(
      `Isolation, ${name(r.design)}: the flooding cgroup was charged ${String(kib(noisy?.charged ?? 0))} KiB for ${String(kib(noisy?.used ?? 0))} KiB used, ` +
        `${String(r.failedAllocs)} allocations failed, the shrinker ran ${String(r.shrinkerCalls)} times and the quiet neighbour lost ${String(neighbourHarm(r) ?? 0)} allocations or cached dentries.`,
    );
  }
  for (const d of DESIGNS) {
    const churn = find(c.results, 'churn', d);
    if (churn !== undefined) {
      out.push(
        `Churn, ${name(d)}: ${String(churn.deadCaches)} dead caches and ${String(churn.deadCgroupsAlive)} removed cgroups still pinned ` +
          `(${String(churn.deadObjcgsAlive)} obj_cgroups) after ${String(churn.extra.containers ?? 0)} containers; the parent is charged ` +
          `${String(kib(churn.extra.containersCharged ?? 0))} KiB and the root ${String(kib(churn.extra.rootCharged ?? 0))} KiB for ${String(kib(churn.extra.orphanUsedBytes ?? 0))} KiB left behind.`,
      );
    }
  }
  const posted = c.souhlalAsPosted;
  if (posted !== null) {
    out.push(
      `Churn, Souhlal as posted (charges dropped at removal): the root ends charged ${String(kib(posted.extra.rootCharged ?? 0))} KiB, ` +
        `${String(posted.extra.clampedUncharges ?? 0)} later uncharges clamped at zero.`,
    );
  }
  for (const d of DESIGNS) {
    const p = c.pathCost[d];
    out.push(`Path cost, ${name(d)}: ${p.off.toFixed(2)} operations per allocation and free with accounting off, ${p.onUnused.toFixed(2)} on but unused, ${p.on.toFixed(2)} on.`);
  }
  return out;
}

export const memcgSection: Section = {
  id: 'memcg',
  title: 'Two approaches to kernel memory accounting, measured (and the one the kernel uses today)',
  summary: 'Costa vs Souhlal (2012) vs obj_cgroup on the same workloads: pages, accuracy, isolation, churn, cost',
  options: [
    { flags: '--seed <n>', description: 'seed of the workloads', defaultValue: '2012' },
    { flags: '--scale <percent>', description: 'size of the workloads, 100 = the full run', defaultValue: '50' },
    { flags: '--workload <id>', description: `one of ${[...WORKLOADS, 'all'].join(', ')}`, defaultValue: 'all' },
  ],
  run(options) {
    const seed = intOption(options, 'seed', 2012, { min: 0, max: 2 ** 31 - 1 });
    const scale = intOption(options, 'scale', 50, { min: 1, max: 400 }) / 100;
    const which = choiceOption(options, 'workload', [...WORKLOADS, 'all'], 'all');
    const comparison = compareDesigns({ seed, scale }, which === 'all' ? WORKLOADS : [which]);
    const r = comparison.results;
    const blocks: Block[] = [
      {
        kind: 'paragraph',
        text:
          'In February 2012 two patch sets proposed charging kernel memory to memory cgroups: Glauber Costa\'s (opt-in: ' +
          'caches registered with register_memcg_cache get a copy per cgroup, root untracked, a shrinker runs at the limit) and ' +
          'Suleiman Souhlal\'s (opt-out: every cache, split per cgroup on first use, split deferred in atomic context). ' +
          'The article ends: "it will be hard to know which approach will win out". Here both run, with today\'s per-object ' +
          'obj_cgroup design, on the same seeded workloads.',
      },
      comparisonTable(r),
      accuracyTable(r),
      {
        kind: 'table',
        title: 'Allocation path cost, abstract operations per allocation and free (counter updates, lookups, list moves)',
        columns: [{ header: 'Design' }, { header: 'Accounting off' }, { header: 'On, unused' }, { header: 'On' }],
        rows: DESIGNS.map((d) => [name(d), comparison.pathCost[d].off.toFixed(2), comparison.pathCost[d].onUnused.toFixed(2), comparison.pathCost[d].on.toFixed(2)]),
      },
    ];
    for (const figure of [
      chart(r, 'many-cgroups', 'Many small cgroups: slab memory', 'MiB', (x) => Math.round((x.slabPages * 4096) / 10485.76) / 100),
      chart(r, 'many-cgroups', 'Many small cgroups: caches', 'caches', (x) => x.caches),
      chart(r, 'isolation', 'Isolation: bytes the flooding cgroup used without being charged', 'KiB', (x) => kib(x.escapedBytes)),
      chart(r, 'churn', 'Churn: dead caches left', 'caches', (x) => x.deadCaches),
      chart(r, 'atomic', 'Atomic context: packets dropped', 'packets', (x) => x.extra.dropped ?? 0),
    ]) {
      if (figure !== null) blocks.push(figure);
    }
    blocks.push(
      {
        kind: 'figure',
        title: 'Allocation path cost with accounting on',
        svg: barChart(DESIGNS.map((d) => ({ label: name(d), value: Math.round(comparison.pathCost[d].on * 100) / 100 })), { unit: 'ops' }),
        alt: DESIGNS.map((d) => `${name(d)}: ${comparison.pathCost[d].on.toFixed(2)} ops`).join('; '),
      },
      { kind: 'heading', text: 'Reading the results' },
      { kind: 'list', items: reading(comparison) },
    );
    return { id: 'memcg', title: this.title, blocks, data: comparison };
  },
};
