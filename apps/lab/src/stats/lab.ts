import { barChart, color, lineChart } from '../ui/charts.js';
import { fill, h } from '../ui/dom.js';
import type { SimClient } from '../worker/client.js';
import type { StatsReport } from '@kernsim/dev-stats';
import type { StatsData } from './compute.js';

/** The stats lab: drop a git log or a dev-stats JSON; dev-stats' pure core builds the tables in the browser. */
export class StatsLab {
  readonly root = h('div', { class: 'lab stats-lab', 'data-testid': 'stats-lab' });
  readonly #client: SimClient;
  readonly #setStatus: (text: string) => void;
  readonly #out = h('div', { 'data-testid': 'stats-out' });

  constructor(client: SimClient, setStatus: (text: string) => void) {
    this.#client = client;
    this.#setStatus = setStatus;
    const input = h('input', { type: 'file', accept: '.txt,.log,.json,text/plain,application/json', 'data-testid': 'stats-file' });
    input.addEventListener('change', () => {
      const f = input.files?.[0];
      if (f) void this.load(f);
    });
    const zone = h('div', { class: 'drop', 'data-testid': 'stats-drop' }, 'Drop the output of ', h('code', {}, 'git log --numstat'), ' (or a ', h('code', {}, 'dev-stats -f json'), ' file) here, or pick it: ', input);
    zone.addEventListener('dragover', (e) => {
      e.preventDefault();
      zone.classList.add('over');
    });
    zone.addEventListener('dragleave', () => {
      zone.classList.remove('over');
    });
    zone.addEventListener('drop', (e) => {
      e.preventDefault();
      zone.classList.remove('over');
      const f = e.dataTransfer?.files[0];
      if (f) void this.load(f);
    });
    this.root.append(h('p', { class: 'intro' }, "LWN's \"who wrote this release\" tables, computed here in the page: the file never leaves your machine."), zone, this.#out);
  }

  async load(file: File): Promise<void> {
    this.#setStatus(`reading ${file.name}…`);
    try {
      const d = await this.#client.request('stats', { name: file.name, text: await file.text() });
      this.#setStatus(d.report ? `${d.report.totals.changesets} changesets from ${file.name}` : `trend over ${d.trend?.points.length ?? 0} releases from ${file.name}`);
      this.#render(d);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      this.#setStatus(message);
      fill(this.#out, h('p', { class: 'bad', 'data-testid': 'stats-error' }, message));
    }
  }

  #render(d: StatsData): void {
    fill(this.#out, ...(d.report ? this.#tables(d.source, d.report) : [h('p', { class: 'outcome' }, `${d.source}: a dev-stats trend`)]));
    if (d.trend) {
      this.#out.append(
        lineChart(
          'Share of changesets by employer',
          d.trend.points.map((p) => p.release),
          d.trend.employers.map((e, i) => ({ name: e, color: color(i), values: d.trend!.points.map((p) => p.shares[e] ?? 0) })),
          '%',
        ),
      );
    }
  }

  #tables(source: string, report: StatsReport): Node[] {
    const t = report.totals;
    const tables = [...report.developers.map((x) => ({ who: 'Developer', x })), ...report.employers.map((x) => ({ who: 'Employer', x }))].filter(({ x }) => x.rows.length > 0);
    const changed = report.developers.find((x) => x.id === 'changed-lines');
    return [
      h('p', { class: 'outcome' }, `${source}: ${t.changesets} changesets (merges not counted: ${t.merges}) from ${t.developers} developers and ${t.employers} employers; ${t.added} lines added, ${t.removed} removed.`),
      h(
        'div',
        { class: 'tables' },
        ...tables.map(({ who, x }) =>
          h(
            'table',
            { class: 'data', 'data-testid': `stats-${who.toLowerCase()}-${x.id}` },
            h('caption', {}, x.title),
            h('thead', {}, h('tr', {}, h('th', {}, who), h('th', {}, x.unit), h('th', {}, '%'))),
            h('tbody', {}, ...x.rows.slice(0, 20).map((r) => h('tr', {}, h('td', {}, r.name), h('td', { class: 'num' }, String(r.count)), h('td', { class: 'num' }, `${r.percent.toFixed(1)}%`)))),
          ),
        ),
      ),
      ...(changed && changed.rows.length > 0 ? [barChart('Changed lines by developer', changed.rows.slice(0, 15).map((r) => ({ label: r.name, value: r.count })), 'lines')] : []),
    ];
  }
}
