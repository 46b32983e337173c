import { MemcgLab } from './memcg/lab.js';
import { NmiLab } from './nmi/lab.js';
import { PatchLab } from './patch/lab.js';
import { StatsLab } from './stats/lab.js';
import { h } from './ui/dom.js';
import { SimClient } from './worker/client.js';

type LabId = 'nmi' | 'patch' | 'memcg' | 'stats';

const statusEl = document.getElementById('status')!;
const app = document.getElementById('app')!;
const tabs = document.getElementById('tabs')!;
const setStatus = (text: string): void => {
  statusEl.textContent = text;
};

const client = new SimClient();
const nmi = new NmiLab(client, setStatus);
const patch = new PatchLab(client, setStatus);
const memcg = new MemcgLab(client, setStatus);
const stats = new StatsLab(client, setStatus);
const labs: Record<LabId, { readonly title: string; readonly root: HTMLElement; started: boolean; readonly start: () => Promise<void> }> = {
  nmi: { title: 'NMI', root: nmi.root, started: false, start: () => nmi.start(new URLSearchParams(window.location.search)) },
  patch: { title: 'Patching', root: patch.root, started: false, start: () => patch.update() },
  memcg: { title: 'memcg', root: memcg.root, started: false, start: () => memcg.update() },
  stats: { title: 'Stats', root: stats.root, started: false, start: () => Promise.resolve() },
};
const ids = Object.keys(labs) as LabId[];

function show(id: LabId): void {
  for (const other of ids) {
    labs[other].root.hidden = other !== id;
    tabs.querySelector(`[data-lab=${other}]`)?.setAttribute('aria-selected', String(other === id));
  }
  if (id !== 'nmi') {
    const url = new URL(window.location.href);
    url.search = `?lab=${id}`;
    history.replaceState(null, '', url);
  }
  const lab = labs[id];
  if (!lab.started) {
    lab.started = true;
    lab.start().catch((e: unknown) => {
      setStatus(`error: ${e instanceof Error ? e.message : String(e)}`);
    });
  }
}

for (const id of ids) {
  const b = h('button', { type: 'button', role: 'tab', 'data-lab': id, 'data-testid': `tab-${id}` }, labs[id].title);
  b.addEventListener('click', () => {
    show(id);
  });
  tabs.append(b);
  app.append(labs[id].root);
}
document.addEventListener('keydown', (e) => {
  if (!labs.nmi.root.hidden && !e.ctrlKey && !e.metaKey && !e.altKey) nmi.onKey(e);
});
const asked = new URLSearchParams(window.location.search).get('lab');
show(ids.find((id) => id === asked) ?? 'nmi');
