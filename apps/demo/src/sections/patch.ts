import { disassemble } from '@kernsim/cpu-core';
import { CPU_COUNTS, hex, nmiSweep, patchFigures, runPatch } from '@kernsim/text-patching';
import type { FigureRow, PatchMethod, PatchResult, PatchUser } from '@kernsim/text-patching';
import type { Block } from '../report/model.js';
import { barChart } from '../report/svg.js';
import { choiceOption, intOption } from './options.js';
import type { Section } from './section.js';

const METHODS = ['direct', 'stop-machine', 'breakpoint'] as const;
const USERS = ['ftrace', 'static-key', 'kprobe'] as const;

function listingBlocks(r: PatchResult): Block[] {
  const symbols = r.machine.symbols;
  return r.listings.map((l) => ({
    kind: 'pre' as const,
    title: `${r.sites[0]?.function ?? 'site'}: ${l.when}`,
    text: disassemble(l.bytes, { origin: l.address, bitness: r.machine.bitness, symbols })
      .map((d) => `${d.address.toString(16)}  ${d.bytes.padEnd(27)} ${d.text}`)
      .join('\n'),
  }));
}

function perCpuBlock(r: PatchResult): Block {
  const shown = r.perCpu.length <= 16 ? r.perCpu : [...r.perCpu.slice(0, 8), ...r.perCpu.slice(-4)];
  return {
    kind: 'table',
    title: `Per CPU (CPU 0 patches${r.perCpu.length > 16 ? `; ${String(shown.length)} of ${String(r.perCpu.length)} shown` : ''})`,
    columns: [
      { header: 'CPU' },
      { header: 'Work iterations' },
      { header: 'Stall (cycles)' },
      { header: 'int3 hits' },
      { header: 'IPIs taken' },
      { header: 'Reached new code' },
      { header: 'State' },
    ],
    rows: shown.map((c) => [c.cpu, c.work, c.stall, c.int3Hits, c.ipisTaken, c.traced, c.status]),
  };
}

function figureTable(rows: readonly FigureRow[]): Block {
  return {
    kind: 'table',
    title: 'Figures per method, CPU count and situation (simulated cycles, 1 cycle per instruction)',
    columns: [
      { header: 'Method' },
      { header: 'CPUs' },
      { header: 'Situation' },
      { header: 'Done' },
      { header: 'Patch time' },
      { header: 'Stall total' },
      { header: 'Stall worst' },
      { header: 'IPIs' },
      { header: 'int3 hits' },
      { header: '#GP' },
    ],
    rows: rows.map((f) => [f.method, f.cpus, f.variant, f.completed ? 'yes' : 'no', f.patchCycles, f.stallTotal, f.stallWorst, f.ipisSent, f.int3OtherCpus, f.gpFaults]),
  };
}

/** JSON has no bigints or byte arrays: addresses become hex strings, bytes "0f 1f ...". */
function plain(value: unknown): unknown {
  if (typeof value === 'bigint') return `0x${value.toString(16)}`;
  if (value instanceof Uint8Array) return hex(value);
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

/** Live code patching on the simulated machine: direct writes, stop_machine, breakpoints. */
export const patchSection: Section = {
  id: 'patch',
  title: 'Modifying code while other CPUs run it: direct, stop_machine, breakpoints',
  summary: 'the ftrace nop becomes a call while every CPU runs it: #GP, a stopped machine, or three int3 syncs',
  options: [
    { flags: '--method <method>', description: METHODS.join(' | '), defaultValue: 'breakpoint' },
    { flags: '--user <user>', description: USERS.join(' | '), defaultValue: 'ftrace' },
    { flags: '--cpus <n>', description: 'CPUs in the run shown step by step (2..4096)', defaultValue: '4' },
    { flags: '--sites <n>', description: 'sites patched in one batch', defaultValue: '4' },
    { flags: '--max-cpus <n>', description: 'largest CPU count in the figures (up to 4096)', defaultValue: '16' },
  ],
  run(options) {
    const method = choiceOption<PatchMethod>(options, 'method', METHODS, 'breakpoint');
    const user = choiceOption<PatchUser>(options, 'user', USERS, 'ftrace');
    const cpus = intOption(options, 'cpus', 4, { min: 2, max: 4096 });
    const sites = intOption(options, 'sites', 4, { min: 1, max: 200 });
    const maxCpus = intOption(options, 'maxCpus', 16, { min: 2, max: 4096 });
    const run = runPatch({ method, user, cpus, sites, observe: cpus <= 64 });
    const counts = CPU_COUNTS.filter((n) => n <= maxCpus);
    const rows = patchFigures({ cpuCounts: counts, user: user === 'kprobe' ? 'ftrace' : user, sites });
    const quiet = rows.filter((r) => r.variant === 'quiet');
    const largest = counts[counts.length - 1] ?? 2;
    const sweeps = [nmiSweep('stop-machine', false, { stride: 5 }), nmiSweep('stop-machine', true, { stride: 5 }), nmiSweep('breakpoint', false, { stride: 15 })];
    const blocks: Block[] = [
      {
        kind: 'paragraph',
        text:
          `${method} patching of ${String(sites)} ${user} site(s) on ${String(cpus)} CPUs: CPU 0 patches while the others call the patched ` +
          `functions in a loop. ${run.completed ? `The patch took ${String(run.patchCycles)} cycles` : 'The patch did not complete'}; ` +
          `other CPUs stalled ${String(run.stallTotal)} cycles in all (worst ${String(run.stallWorst)}), took ${String(run.int3OtherCpus)} int3 traps ` +
          `and ${String(run.gpFaults)} #GP; ${String(run.ipisSent)} IPIs were sent in ${String(run.syncRounds)} sync rounds.`,
      },
      { kind: 'list', items: run.sites.slice(0, 4).map((s) => `${s.function} @ ${s.address.toString(16)}: ${hex(s.oldBytes)} -> ${hex(s.newBytes)}`) },
      ...listingBlocks(run),
      perCpuBlock(run),
      figureTable(rows),
      {
        kind: 'figure',
        title: `Worst stall of one CPU, ${String(largest)} CPUs (cycles)`,
        svg: barChart(rows.filter((r) => r.cpus === largest).map((r) => ({ label: `${r.method} ${r.variant}`, value: r.stallWorst })), { unit: 'cycles' }),
        alt: rows.filter((r) => r.cpus === largest).map((r) => `${r.method} ${r.variant} ${String(r.stallWorst)}`).join(', '),
      },
      {
        kind: 'figure',
        title: 'Total stall of the other CPUs by CPU count, quiet machine (cycles)',
        svg: barChart(quiet.filter((r) => r.method !== 'direct').map((r) => ({ label: `${r.method} ${String(r.cpus)}`, value: r.stallTotal })), { unit: 'cycles' }),
        alt: quiet.map((r) => `${r.method} ${String(r.cpus)} ${String(r.stallTotal)}`).join(', '),
      },
      {
        kind: 'table',
        title: 'An NMI at every few cycles of the patch window; its handler calls the patched function',
        columns: [{ header: 'Method' }, { header: "3.3 ftrace's NMI protocol" }, { header: 'Arrival times tried' }, { header: 'Crashed' }],
        rows: sweeps.map((s) => [s.method, s.ftraceNmiProtocol ? 'yes' : 'no', s.arrivals, s.crashes]),
      },
    ];
    return { id: 'patch', title: this.title, blocks, data: plain({ run: { ...run, machine: undefined, image: undefined }, figures: rows, nmiSweeps: sweeps }) };
  },
};
