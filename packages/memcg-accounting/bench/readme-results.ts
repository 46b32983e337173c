// Regenerates the README's "Reading the results" figures from a run of the simulation:
//   pnpm bench > /tmp/bench.txt; tsx --conditions=@kernsim/source bench/readme-results.ts /tmp/bench.txt
// Everything between the markers is replaced; nothing in it is typed by hand.
import { readFileSync, writeFileSync } from 'node:fs';
import { compareDesigns, DESIGNS, WORKLOAD_KINDS, type WorkloadId, type WorkloadResult } from '@kernsim/memcg-accounting';

const START = '<!-- results:start -->';
const END = '<!-- results:end -->';
const NAMES: Record<string, string> = { costa: 'Costa 2012', souhlal: 'Souhlal 2012', objcg: 'today (obj_cgroup)' };
const kib = (b: number): string => String(Math.round(b / 1024));
const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
const name = (d: string): string => NAMES[d] ?? d;

const c = compareDesigns({ seed: 2012, scale: 1 });
const get = (w: WorkloadId, d: string): WorkloadResult => {
  const r = c.results.find((x) => x.workload === w && x.design === d);
  if (r === undefined) throw new Error(`missing ${w}/${d}`);
  return r;
};
const cg = (r: WorkloadResult, n: string) => r.cgroups.find((g) => g.name === n);
const harm = (r: WorkloadResult): number => (cg(r, 'quiet')?.failedAllocs ?? 0) + (cg(r, 'quiet')?.evicted ?? 0);

const lines: string[] = [];
lines.push('Seed 2012, full size (`compareDesigns({ seed: 2012, scale: 1 })`); `kernsim memcg --scale 100` shows the same run.', '');
lines.push('| Kind | Workload | Design | Slab pages | Utilisation | Caches | Failed allocs | Shrinker calls | Uncharged KiB | Dead caches | Dead cgroups (obj_cgroups) alive | Forced charges | Neighbour harmed | obj_exts KiB |');
lines.push('|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|');
for (const r of c.results) {
  lines.push(
    `| ${WORKLOAD_KINDS[r.workload]} | ${r.workload} | ${name(r.design)} | ${String(r.slabPages)} | ${pct(r.utilisation)} | ${String(r.caches)} | ${String(r.failedAllocs)} | ${String(r.shrinkerCalls)} | ${kib(r.escapedBytes)} | ${String(r.deadCaches)} | ${String(r.deadCgroupsAlive)} (${String(r.deadObjcgsAlive)}) | ${String(r.forcedCharges)} | ${r.workload === 'isolation' ? String(harm(r)) : '-'} | ${kib(r.metadataBytes)} |`,
  );
}
lines.push('', 'Charged vs used, KiB (churn: the parent `containers` against what removed containers left behind; host: all containers of a type). *Counter* is the counter that holds the kernel memory: Costa without an independent kmem limit charges the memory counter only.', '');
lines.push('| Workload | Design | Cgroup | Counter | Charged | Used | Charged/used | Max usage | Limit |', '|---|---|---|---|--:|--:|--:|--:|--:|');
for (const r of c.results) {
  if (r.workload === 'many-cgroups') continue;
  for (const g of r.cgroups) {
    const ratio = g.used === 0 ? '-' : (g.charged / g.used).toFixed(2);
    lines.push(`| ${r.workload} | ${name(r.design)} | ${g.name} | ${g.counter} | ${kib(g.charged)} | ${kib(g.used)} | ${ratio} | ${kib(g.maxUsage)} | ${g.limit === null ? '-' : kib(g.limit)} |`);
  }
}
const dying = c.dying ?? [];
if (dying.length > 0) {
  lines.push('', `Dying cgroups, ${String(dying[0]?.days ?? 0)} days of container churn (end of each day): removed memory cgroups still alive / dead caches / obj_cgroups of removed cgroups / slab pages:`, '');
  const days = (dying[0]?.samples ?? []).filter((x) => x.hour > 0 && x.hour % 24 === 0);
  lines.push(`| Design | ${days.map((x) => `Day ${String(x.hour / 24)}`).join(' | ')} |`, `|---|${days.map(() => '--:').join('|')}|`);
  for (const series of dying) {
    const cells = series.samples.filter((x) => x.hour > 0 && x.hour % 24 === 0).map((x) => `${String(x.deadCgroupsAlive)} / ${String(x.deadCaches)} / ${String(x.deadObjcgsAlive)} / ${String(x.slabPages)}`);
    lines.push(`| ${name(series.design)} | ${cells.join(' | ')} |`);
  }
  const last = days.at(-1);
  if (last !== undefined) lines.push('', `${String(last.containersStarted)} containers started in all; ${kib(last.leftBehindBytes)} KiB of their objects still alive at the end.`);
}
lines.push('', 'Allocation path, abstract operations per allocation + free (dentry cache):', '');
lines.push('| Design | Accounting off | On, unused | On |', '|---|--:|--:|--:|');
for (const d of DESIGNS) {
  const p = c.pathCost[d];
  lines.push(`| ${name(d)} | ${p.off.toFixed(2)} | ${p.onUnused.toFixed(2)} | ${p.on.toFixed(2)} |`);
}
const posted = c.souhlalAsPosted;
if (posted !== null) {
  lines.push(
    '',
    `Souhlal's removal as posted (charges dropped at removal), churn: root charged ${kib(posted.extra.rootCharged ?? 0)} KiB at the end (against ${kib(get('churn', 'souhlal').extra.rootCharged ?? 0)} KiB when the root holds the charges), ${String(posted.extra.clampedUncharges ?? 0)} counter uncharges clamped at zero (the root's kmem and memory counters each count), for ${kib(posted.extra.orphanUsedBytes ?? 0)} KiB still in use.`,
  );
}
const benchFile = process.argv[2];
if (benchFile !== undefined) {
  const bench = readFileSync(benchFile, 'utf8').split('\n').filter((l) => l.startsWith('memcg.'));
  lines.push('', 'Wall time, from `pnpm bench` on the machine that generated this section:', '', '```', ...bench, '```');
}

// Who wins on what, stated from the numbers above.
const many = DESIGNS.map((d) => get('many-cgroups', d));
const least = many.reduce((a, b) => (a.slabPages <= b.slabPages ? a : b));
const most = many.reduce((a, b) => (a.slabPages >= b.slabPages ? a : b));
const iso = DESIGNS.map((d) => get('isolation', d));
const accuracy = (r: WorkloadResult): number => {
  const n = cg(r, 'noisy');
  return n === undefined || n.used === 0 ? 0 : n.charged / n.used;
};
const churn = DESIGNS.map((d) => get('churn', d));
const atomic = DESIGNS.map((d) => get('atomic', d));
lines.push('', '**Who wins on what** (sentences generated from the same run):', '');
lines.push(
  `- *Memory with many small cgroups*: ${name(least.design)} — ${String(least.slabPages)} slab pages at ${pct(least.utilisation)} utilisation, against ${String(most.slabPages)} pages at ${pct(most.utilisation)} and ${String(most.caches)} caches for ${name(most.design)}.`,
);
lines.push(
  `- *Accuracy* (flooding cgroup, charged/used): ${iso.map((r) => `${name(r.design)} ${accuracy(r).toFixed(2)}`).join(', ')}.`,
);
lines.push(
  `- *Isolation* (quiet neighbour's failed allocations + dentries evicted by global reclaim): ${iso.map((r) => `${name(r.design)} ${String(harm(r))}`).join(', ')}; failed allocations in the flooding cgroup: ${iso.map((r) => `${name(r.design)} ${String(cg(r, 'noisy')?.failedAllocs ?? 0)}`).join(', ')}; shrinker calls: ${iso.map((r) => `${name(r.design)} ${String(r.shrinkerCalls)}`).join(', ')}.`,
);
lines.push(
  `- *Churn* (${String(churn[0]?.extra.containers ?? 0)} containers): dead caches ${churn.map((r) => `${name(r.design)} ${String(r.deadCaches)}`).join(', ')}; removed cgroups still pinned ${churn.map((r) => `${name(r.design)} ${String(r.deadCgroupsAlive)}`).join(', ')}; KiB charged to the parent / root for ${kib(churn[0]?.extra.orphanUsedBytes ?? 0)} KiB left behind: ${churn.map((r) => `${name(r.design)} ${kib(r.extra.containersCharged ?? 0)} / ${kib(r.extra.rootCharged ?? 0)}`).join(', ')}.`,
);
lines.push(
  `- *Atomic context*: packets dropped ${atomic.map((r) => `${name(r.design)} ${String(r.extra.dropped ?? 0)}`).join(', ')}; KiB served uncharged ${atomic.map((r) => `${name(r.design)} ${kib(r.escapedBytes)}`).join(', ')}; most KiB over the 1024 KiB limit ${atomic.map((r) => `${name(r.design)} ${kib(r.extra.maxOverLimitBytes ?? 0)}`).join(', ')}.`,
);
const host = DESIGNS.map((d) => get('host', d));
const share = (r: WorkloadResult): string => {
  const used = r.cgroups.reduce((sum, g) => sum + g.used, 0);
  return used === 0 ? '-' : pct(r.cgroups.reduce((sum, g) => sum + g.charged, 0) / used);
};
lines.push(
  `- *Modelled host* (share of the kernel memory containers use that is charged to them): ${host.map((r) => `${name(r.design)} ${share(r)}`).join(', ')}; slab pages ${host.map((r) => `${name(r.design)} ${String(r.slabPages)}`).join(', ')}.`,
);
if (dying.length > 0) {
  lines.push(
    `- *Dying cgroups* after ${String(dying[0]?.days ?? 0)} days: removed memory cgroups still alive ${dying.map((s) => `${name(s.design)} ${String(s.samples.at(-1)?.deadCgroupsAlive ?? 0)}`).join(', ')}; obj_cgroups ${dying.map((s) => `${name(s.design)} ${String(s.samples.at(-1)?.deadObjcgsAlive ?? 0)}`).join(', ')}.`,
  );
}
lines.push(
  `- *Allocation path*: on but unused, ${DESIGNS.map((d) => `${name(d)} ${(c.pathCost[d].onUnused - c.pathCost[d].off).toFixed(2)}`).join(', ')} operations above no accounting; on, ${DESIGNS.map((d) => `${name(d)} ${(c.pathCost[d].on - c.pathCost[d].off).toFixed(2)}`).join(', ')}.`,
);

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const from = readme.indexOf(START);
const to = readme.indexOf(END);
if (from < 0 || to < from) throw new Error('README.md has no results markers');
writeFileSync(new URL('../README.md', import.meta.url), `${readme.slice(0, from + START.length)}\n${lines.join('\n')}\n${readme.slice(to)}`);
console.log(`README.md: ${String(lines.length)} generated lines`);
