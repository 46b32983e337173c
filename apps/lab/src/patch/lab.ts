import { barChart, color, groupedChart } from '../ui/charts.js';
import { fill, h, select } from '../ui/dom.js';
import type { SimClient } from '../worker/client.js';
import type { CostCurveRow } from '@kernsim/text-patching';
import { CURVE_MAX_CPUS, PATCH_METHODS, PATCH_USERS } from './compute.js';
import type { PatchData, PatchParams } from './compute.js';
import { curveView } from './curve.js';
import { sitesView, table } from './sites-view.js';


/** The patching lab: one patch on N CPUs by the chosen method, what each CPU saw, and the three methods side by side. */
export class PatchLab {
  readonly root = h('div', { class: 'lab patch-lab', 'data-testid': 'patch-lab' });
  readonly #client: SimClient;
  readonly #setStatus: (text: string) => void;
  #params: PatchParams = { method: 'breakpoint', user: 'ftrace', cpus: 4, sites: 2 };
  readonly #out = h('div');
  readonly #curve = h('div', { class: 'curve-wrap' });
  #curveMax = 64;
  #curveShown: number | undefined;
  readonly #cpusLabel = h('output', { 'data-testid': 'patch-cpus-value' });

  constructor(client: SimClient, setStatus: (text: string) => void) {
    this.#client = client;
    this.#setStatus = setStatus;
    const slider = h('input', { type: 'range', min: 2, max: 32, value: this.#params.cpus, 'data-testid': 'patch-cpus', 'aria-label': 'CPUs' });
    this.#cpusLabel.textContent = String(this.#params.cpus);
    slider.addEventListener('input', () => {
      this.#cpusLabel.textContent = slider.value;
    });
    slider.addEventListener('change', () => {
      this.#params = { ...this.#params, cpus: Number(slider.value) };
      void this.update();
    });
    const sites = h('input', { type: 'number', min: 1, max: 16, value: this.#params.sites, 'data-testid': 'patch-sites', 'aria-label': 'sites' });
    sites.addEventListener('change', () => {
      this.#params = { ...this.#params, sites: Number(sites.value) };
      void this.update();
    });
    this.root.append(
      h('p', { class: 'intro' }, 'CPU 0 turns a 5-byte nop at the start of traced functions into a call while the other CPUs run those functions in a loop. Written directly, another CPU executes a half-changed instruction (#GP here); stop_machine parks every CPU; the breakpoint method puts an int3 on the first byte, syncs, writes the tail, syncs, writes the head, syncs.'),
      h(
        'div',
        { class: 'controls' },
        select('Method', 'patch-method', PATCH_METHODS.map((m) => [m, m] as const), this.#params.method, (v) => {
          this.#params = { ...this.#params, method: PATCH_METHODS.find((m) => m === v) ?? 'breakpoint' };
          void this.update();
        }),
        select('User', 'patch-user', PATCH_USERS.map((m) => [m, m] as const), this.#params.user, (v) => {
          this.#params = { ...this.#params, user: PATCH_USERS.find((m) => m === v) ?? 'ftrace' };
          void this.update();
        }),
        h('label', {}, 'CPUs ', slider, ' ', this.#cpusLabel),
        h('label', {}, 'sites ', sites),
      ),
      this.#out,
      h('div', { class: 'controls' }, select('Cost curve up to', 'patch-curve-max', CURVE_MAX_CPUS.map((n) => [String(n), `${n} CPUs`] as const), String(this.#curveMax), (v) => {
        this.#curveMax = Number(v);
        void this.#updateCurve();
      })),
      this.#curve,
    );
  }

  /** The cost curve depends on nothing else the lab sets: computed once per largest CPU count. */
  async #updateCurve(): Promise<void> {
    if (this.#curveShown === this.#curveMax) return;
    const max = this.#curveMax;
    this.#curve.replaceChildren(h('p', { class: 'note' }, `running stop_machine and the breakpoint method at 2 to ${max} CPUs…`));
    const rows: readonly CostCurveRow[] = await this.#client.request('patch-curve', { maxCpus: max });
    if (max !== this.#curveMax) return;
    this.#curveShown = max;
    fill(this.#curve, curveView(rows));
  }

  async update(): Promise<void> {
    this.#setStatus(`patching on ${this.#params.cpus} CPUs…`);
    const d = await this.#client.request('patch', this.#params);
    this.#setStatus(`patched: ${d.params.method}, ${d.params.cpus} CPUs`);
    this.#render(d);
    await this.#updateCurve();
  }

  #render(d: PatchData): void {
    const r = d.run;
    const summary = `${r.method}: ${r.completed ? `the patch took ${r.patchCycles} cycles` : 'the patch never completed'}; the other CPUs stalled ${r.stallTotal} cycles (worst ${r.stallWorst}), took ${r.int3OtherCpus} int3 traps and ${r.gpFaults} #GP; ${r.ipisSent} IPIs in ${r.syncRounds} sync round(s).`;
    const cpuLabels = d.perCpu.map((c) => `CPU ${c.cpu}`);
    fill(
      this.#out,
      h('p', { class: 'outcome', 'data-testid': 'patch-summary' }, summary),
      d.gpAt !== undefined ? h('p', { class: 'bad', 'data-testid': 'patch-gp' }, `#GP at ${d.gpAt}: a CPU fetched bytes another CPU had changed since it last serialized (the SDM's cross-modifying-code rule).`) : null,
      h('h3', {}, 'Site bytes'),
      table(['function', 'address', 'before', 'after', 'at the end'], d.sites.map((s) => [s.fn, s.address, s.oldBytes, s.newBytes, s.finalBytes]), 'patch-sites-table'),
      h('h3', {}, 'Every site, every CPU'),
      ...sitesView(d),
      h('p', {}, `What CPU 1 executed at site 0, in order: `, h('span', { class: 'mono', 'data-testid': 'patch-observed' }, d.observed.join('  →  ') || '(never reached it)')),
      h('div', { class: 'listings' }, ...d.listings.map((l) => h('figure', {}, h('figcaption', {}, `site 0 ${l.when} (simulated memory)`), h('pre', { class: 'mono' }, l.lines.join('\n'))))),
      h('h3', {}, 'Per CPU'),
      h(
        'div',
        { class: 'charts' },
        barChart('int3 hits per CPU', d.perCpu.map((c, i) => ({ label: cpuLabels[i]!, value: c.int3Hits })), 'traps'),
        barChart('stall per CPU', d.perCpu.map((c, i) => ({ label: cpuLabels[i]!, value: c.stall })), 'cycles'),
        barChart('IPIs taken per CPU', d.perCpu.map((c, i) => ({ label: cpuLabels[i]!, value: c.ipisTaken })), 'IPIs'),
      ),
      table(['CPU', 'work loops', 'stall', 'int3 hits', 'IPIs', 'reached new code', 'state'], d.perCpu.map((c) => [c.cpu, c.work, c.stall, c.int3Hits, c.ipisTaken, c.traced, c.status]), 'patch-cpus-table'),
      h('h3', {}, `The three methods, same patch, ${d.params.cpus} CPUs`),
      groupedChart(
        'per method',
        ['patch time', 'stall total', 'worst stall'],
        d.methods.map((m, i) => ({ name: m.method, color: color(i), values: [m.patchCycles, m.stallTotal, m.stallWorst] })),
        'cycles',
        true,
      ),
      groupedChart('per method', ['IPIs', 'int3 hits', '#GP'], d.methods.map((m, i) => ({ name: m.method, color: color(i), values: [m.ipisSent, m.int3OtherCpus, m.gpFaults] })), 'count'),
    );
  }
}
