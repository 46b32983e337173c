import { h } from '../ui/dom.js';
import type { CpuView, MachineView } from './view.js';

/** One CPU: where it is, its flags, the code around RIP and its registers (changed since the last step shown: highlighted). */
export function cpuPanel(cpu: CpuView, previous: CpuView | undefined, next: boolean): HTMLElement {
  const flags = [
    cpu.status,
    `CPL ${cpu.cpl}`,
    cpu.interrupts ? 'IF=1' : 'IF=0',
    cpu.nmiBlocked ? 'NMIs blocked' : 'NMIs unblocked',
    cpu.nmiPending ? 'NMI pending (latched)' : '',
  ].filter((f) => f !== '');
  const code = h('table', { class: 'code', 'data-testid': `code-cpu${cpu.id}` });
  for (const line of cpu.code) {
    if (line.label !== undefined) code.append(h('tr', { class: 'label' }, h('td', { colspan: 3 }, `${line.label}:`)));
    code.append(h('tr', { class: line.current ? 'current' : '' }, h('td', {}, line.current ? '▶' : ''), h('td', { class: 'addr' }, line.address.slice(-8)), h('td', {}, line.text)));
  }
  const regs = h('table', { class: 'regs', 'data-testid': `regs-cpu${cpu.id}` });
  for (let i = 0; i < cpu.regs.length; i += 2) {
    const row = h('tr');
    for (const r of cpu.regs.slice(i, i + 2)) {
      const changed = previous !== undefined && previous.regs.find((p) => p.name === r.name)?.value !== r.value;
      row.append(h('th', {}, r.name), h('td', { 'data-reg': r.name, class: changed ? 'changed' : '' }, r.value));
    }
    regs.append(row);
  }
  return h(
    'section',
    { class: `cpu${next ? ' next' : ''}`, 'data-testid': `cpu${cpu.id}` },
    h('h3', {}, `CPU ${cpu.id}`, next ? ' (runs next)' : ''),
    h('p', { class: 'where' }, h('span', { class: 'mono', 'data-testid': `rip-cpu${cpu.id}` }, cpu.rip), ' ', h('b', {}, cpu.where)),
    h('p', { class: 'flags' }, flags.join(' · ')),
    code,
    regs,
  );
}

/** The instructions of the last steps, all CPUs interleaved as the machine ran them. */
export function executedPanel(view: MachineView): HTMLElement {
  const table = h('table', { class: 'code executed', 'data-testid': 'executed' });
  for (const e of view.executed) {
    table.append(h('tr', {}, h('td', { class: 'addr' }, String(e.step)), h('td', {}, `cpu${e.cpu}`), h('td', { class: 'addr' }, e.address.slice(-8)), h('td', {}, e.text), h('td', { class: 'addr' }, e.where)));
  }
  if (view.executed.length === 0) table.append(h('tr', {}, h('td', {}, '(no instruction executed yet)')));
  return table;
}

/** The run's story up to this step, the latest at the bottom. */
export function tracePanel(view: MachineView): HTMLElement {
  const list = h('ol', { class: 'trace', 'data-testid': 'trace' });
  for (const e of view.recent) list.append(h('li', { class: `ev-${e.kind}` }, h('span', { class: 'mono' }, `${String(e.step).padStart(6)} cpu${e.cpu} `), e.text));
  if (view.recent.length === 0) list.append(h('li', {}, '(nothing has happened yet)'));
  return list;
}
