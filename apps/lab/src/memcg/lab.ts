import { color, groupedChart, lineChart } from '../ui/charts.js';
import { fill, h } from '../ui/dom.js';
import type { SimClient } from '../worker/client.js';
import type { MemcgData, MemcgRow } from './compute.js';

const NAMES: Readonly<Record<string, string>> = { costa: 'Costa 2012 (opt-in, SLUB)', souhlal: 'Souhlal 2012 (opt-out, SLAB)', objcg: 'today (obj_cgroup)' };

/** The memcg lab: the 2012 designs and today's on the same seeded workloads, as charts. */
export class MemcgLab {
  readonly root = h('div', { class: 'lab memcg-lab', 'data-testid': 'memcg-lab' });
  readonly #client: SimClient;
  readonly #setStatus: (text: string) => void;
  readonly #out = h('div', { class: 'charts' });
  #seed = 2012;
  #scale = 10;

  constructor(client: SimClient, setStatus: (text: string) => void) {
    this.#client = client;
    this.#setStatus = setStatus;
    const seed = h('input', { type: 'number', value: this.#seed, min: 0, 'aria-label': 'seed', 'data-testid': 'memcg-seed' });
    const scale = h('input', { type: 'range', min: 5, max: 100, step: 5, value: this.#scale, 'aria-label': 'workload size', 'data-testid': 'memcg-scale' });
    const scaleOut = h('output', {}, `${this.#scale} %`);
    scale.addEventListener('input', () => {
      scaleOut.textContent = `${scale.value} %`;
    });
    for (const input of [seed, scale]) {
      input.addEventListener('change', () => {
        this.#seed = Number(seed.value);
        this.#scale = Number(scale.value);
        void this.update();
      });
    }
    this.root.append(
      h('p', { class: 'intro' }, "February 2012: Glauber Costa's opt-in design (registered caches get a copy per cgroup) against Suleiman Souhlal's opt-out design (every cache, split per cgroup on first use), with today's per-object obj_cgroup design, run on the same seeded workloads."),
      h('div', { class: 'controls' }, h('label', {}, 'seed ', seed), h('label', {}, 'workload size ', scale, ' ', scaleOut)),
      this.#out,
    );
  }

  async update(): Promise<void> {
    this.#setStatus('running the memcg workloads…');
    const d = await this.#client.request('memcg', { seed: this.#seed, scale: this.#scale });
    this.#setStatus(`memcg: seed ${d.params.seed}, ${d.params.scale} % size`);
    this.#render(d);
  }

  #render(d: MemcgData): void {
    const chart = (title: string, unit: string, value: (r: MemcgRow) => number, log = false): SVGSVGElement =>
      groupedChart(
        title,
        d.workloads.map((w) => (d.kinds[w] === 'modelled host' ? `${w} (modelled)` : w)),
        d.designs.map((design, i) => ({
          name: NAMES[design] ?? design,
          color: color(i),
          values: d.workloads.map((w) => {
            const row = d.rows.find((r) => r.workload === w && r.design === design);
            return row ? value(row) : 0;
          }),
        })),
        unit,
        log,
      );
    fill(
      this.#out,
      chart('Slab pages', 'pages', (r) => r.slabPages, true),
      chart('Slab utilisation', '%', (r) => Math.round(r.utilisation * 1000) / 10),
      chart('Dead caches left', 'caches', (r) => r.deadCaches),
      chart('Charged after removal (parent + root)', 'KiB', (r) => r.chargedAfterRemovalKiB),
      chart('Used without being charged', 'KiB', (r) => r.escapedKiB),
      chart('Failed allocations', 'allocations', (r) => r.failedAllocs),
      groupedChart(
        'Allocation path cost',
        ['accounting off', 'on, unused', 'on'],
        d.pathCost.map((p, i) => ({ name: NAMES[p.design] ?? p.design, color: color(i), values: [p.off, p.onUnused, p.on] })),
        'operations',
      ),
    );
    const dyingChart = (title: string, unit: string, pick: (s: MemcgData['dying'][number]) => readonly number[]): SVGSVGElement =>
      lineChart(title, (d.dying[0]?.hours ?? []).map((h) => `${h} h`), d.dying.map((s, i) => ({ name: NAMES[s.design] ?? s.design, color: color(i), values: pick(s) })), unit);
    if (d.dying.length > 0) {
      this.#out.append(
        dyingChart('Dying cgroups (modelled host): removed cgroups still alive', 'cgroups', (s) => s.deadCgroupsAlive),
        dyingChart('Dying cgroups (modelled host): dead caches', 'caches', (s) => s.deadCaches),
        dyingChart('Dying cgroups (modelled host): left behind by removed containers', 'KiB', (s) => s.leftBehindKiB),
      );
    }
  }
}
