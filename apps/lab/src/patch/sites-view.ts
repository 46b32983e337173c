import { h } from '../ui/dom.js';
import type { PatchData } from './compute.js';

const SHORT = ['old', 'int3 + old tail', 'int3 + new tail', 'new'] as const;

export function table(headers: readonly string[], rows: readonly (readonly (string | number)[])[], testid: string): HTMLTableElement {
  return h('table', { class: 'data', 'data-testid': testid }, h('thead', {}, h('tr', {}, ...headers.map((x) => h('th', {}, x)))), h('tbody', {}, ...rows.map((r) => h('tr', {}, ...r.map((c) => h('td', {}, String(c)))))));
}

/**
 * Every site state by state (which CPU 0 had written when each sync began, how many CPUs
 * executed it), then one row per CPU: the states it executed at each site, in order.
 */
export function sitesView(d: PatchData): (HTMLElement | string)[] {
  const bp = d.params.method === 'breakpoint';
  const out: (HTMLElement | string)[] = [];
  d.perSite.forEach((site, i) => {
    out.push(
      h('h4', {}, `Site ${i} (${site.fn}), state by state`),
      table(
        bp ? ['state', 'bytes', 'CPU 0 had written it when a sync began', 'CPUs that executed it'] : ['state', 'bytes', 'CPUs that executed it'],
        site.states.map((s) => (bp ? [s.name, s.bytes, s.atSync ? 'yes' : '', s.ranBy] : [s.name, s.bytes, s.ranBy])),
        i === 0 ? 'patch-states' : `patch-states-${i}`,
      ),
    );
  });
  const cpus = d.perSite[0]?.byCpu.length ?? 0;
  const name = (i: number): string => SHORT[i] ?? 'torn';
  const rows = Array.from({ length: cpus }, (_, cpu) => [`CPU ${cpu}${cpu === 0 ? ' (patches)' : ''}`, ...d.perSite.map((site) => {
    const seen = site.byCpu[cpu] ?? [];
    return seen.length === 0 ? '(did not run it)' : seen.map(name).join(' → ');
  })]);
  out.push(h('h4', {}, 'What each CPU executed at each site, in order'), table(['CPU', ...d.perSite.map((s, i) => `site ${i} (${s.fn})`)], rows, 'patch-site-cpus'));
  return out;
}
