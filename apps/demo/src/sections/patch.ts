import { disassemble } from '@kernsim/cpu-core';
import { CPU_COUNTS, costCurve, hex, nmiSweep, patchFigures, runPatch } from '@kernsim/text-patching';
import type { FigureRow, PatchMethod, PatchResult, PatchUser } from '@kernsim/text-patching';
import type { Block } from '../report/model.js';
import { barChart } from '../report/svg.js';
import { choiceOption, intChoiceOption, intOption } from './options.js';
import { costCurveBlocks } from './patch-curve.js';
import { progressLine } from './progress-line.js';
import type { Section } from './section.js';

const METHODS = ['direct', 'stop-machine', 'breakpoint'] as const;
const USERS = ['ftrace', 'static-key', 'kprobe'] as const;

function listingBlocks(r: PatchResult): Block[] {
  const symbols = r.machine.symbols;
  return r.listings.map((l) => ({
    kind: 'pre' as const,
    title: `${r.sites[0]?.function ?? 'site'}: ${l.when} (read from simulated memory)`,
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
    title: 'Figures per method, CPU count and situation (simulated cycles, modelled timing)',
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

function chart(title: string, rows: readonly FigureRow[], value: (r: FigureRow) => number, unit: string): Block {
  const bars = rows.map((r) => ({ label: `${r.method} ${String(r.cpus)} ${r.variant === 'quiet' ? '' : r.variant}`.trim(), value: value(r) }));
  return { kind: 'figure', title, svg: barChart(bars, { unit }), alt: bars.map((b) => `${b.label}: ${String(b.value)} ${unit}`).join(', ') };
}

/** JSON has no bigints or byte arrays: addresses become hex strings, bytes "0f 1f ...". */
function plain(value: unknown): unknown {
  if (typeof value === 'bigint') return `0x${value.toString(16)}`;
  if (value instanceof Uint8Array) return hex(value);
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

function describeRun(r: PatchResult, method: PatchMethod, user: PatchUser, sites: number, cpus: number): string {
  const outcome = r.completed ? `The patch took ${String(r.patchCycles)} cycles` : 'The patch never completed (a CPU died and never answered)';
  return (
    `${method} patching of ${String(sites)} ${user} site(s) on ${String(cpus)} CPUs: CPU 0 patches while the others call the patched ` +
    `functions in a loop. ${outcome}; the other CPUs stalled ${String(r.stallTotal)} cycles in all (worst ${String(r.stallWorst)}), took ` +
    `${String(r.int3OtherCpus)} int3 traps and ${String(r.gpFaults)} #GP; ` +
    (method === 'direct'
      ? 'no IPIs were sent.'
      : `${String(r.ipisSent)} IPIs were sent ${method === 'stop-machine' ? 'to wake the stopper threads' : `in ${String(r.syncRounds)} sync round(s)`}.`)
  );
}

/** Live code patching on the simulated machine: direct writes, stop_machine, breakpoints. */
export const patchSection: Section = {
  id: 'patch',
  title: 'Modifying code while other CPUs run it: direct, stop_machine, breakpoints',
  summary: 'the ftrace nop becomes a call while every CPU runs it: #GP, a stopped machine, or three int3 syncs',
  options: [
    { flags: '--method <method>', description: METHODS.join(' | '), defaultValue: 'breakpoint' },
    { flags: '--user <user>', description: USERS.join(' | '), defaultValue: 'ftrace' },
    { flags: '--cpus <n>', description: 'CPUs in the run shown step by step (2..4096; large counts take minutes)', defaultValue: '4' },
    { flags: '--sites <n>', description: 'sites patched in one batch (1..200)', defaultValue: '4' },
    { flags: '--max-cpus <n>', description: 'largest CPU count in the figures (2, 4, 16, 64, 256, 1024 or 4096; the large ones take minutes)', defaultValue: '64' },
  ],
  run(options, context) {
    const method = choiceOption<PatchMethod>(options, 'method', METHODS, 'breakpoint');
    const user = choiceOption<PatchUser>(options, 'user', USERS, 'ftrace');
    const cpus = intOption(options, 'cpus', 4, { min: 2, max: 4096 });
    const sites = intOption(options, 'sites', 4, { min: 1, max: 200 });
    const maxCpus = intChoiceOption(options, 'maxCpus', CPU_COUNTS, 64);
    // The runs are synchronous and large counts take minutes; a terminal's stderr is written
    // synchronously, so the line shows while they run.
    const progress = progressLine(context?.stderr, 'patch');
    progress(`${method} run on ${String(cpus)} CPUs…`);
    const run = runPatch({ method, user, cpus, sites, observe: cpus <= 64 });
    const counts = CPU_COUNTS.filter((n) => n <= maxCpus);
    // One CPU count at a time, so the progress line can say where the run is (the rows are the same).
    const rows = counts.flatMap((n) => {
      progress(`figures at ${String(n)} CPUs…`);
      return patchFigures({ cpuCounts: [n], user, sites });
    });
    const quiet = rows.filter((r) => r.variant === 'quiet');
    const largest = counts[counts.length - 1] ?? 2;
    progress(`batching on ${String(cpus)} CPUs…`);
    const batch = method === 'breakpoint' ? run : runPatch({ method: 'breakpoint', user, cpus, sites });
    const each = runPatch({ method: 'breakpoint', user, cpus, sites, batching: 'each' });
    const curve = counts.flatMap((n) => {
      progress(`cost curve at ${String(n)} CPUs…`);
      return costCurve({ cpuCounts: [n], sites });
    });
    // The sweeps try arrival times a few instructions apart: flat timing, a cycle an instruction.
    const flat = { timing: 'flat' } as const;
    progress('NMI sweeps…');
    const sweeps = [nmiSweep('stop-machine', false, { stride: 5, ...flat }), nmiSweep('stop-machine', true, { stride: 5, ...flat }), nmiSweep('breakpoint', false, { stride: 15, ...flat })];
    progress(undefined);
    const seen = run.observed.map(hex);
    const blocks: Block[] = [
      { kind: 'paragraph', text: describeRun(run, method, user, sites, cpus) },
      { kind: 'list', items: run.sites.slice(0, 4).map((s) => `${s.function} @ ${s.address.toString(16)}: ${hex(s.oldBytes)} -> ${hex(s.newBytes)}`) },
      ...listingBlocks(run),
      ...(seen.length > 0
        ? [
            {
              kind: 'paragraph' as const,
              text: `What CPU 1 executed at ${run.sites[0]?.function ?? 'the site'}, state by state: ${seen.join('  ->  ')}${run.gpFaults > 0 ? ` (then #GP: ${run.machine.cpus[1]?.lastFault?.reason ?? ''})` : ''}.`,
            },
          ]
        : []),
      perCpuBlock(run),
      {
        kind: 'table',
        title: `Breakpoint method, ${String(sites)} site(s) on ${String(cpus)} CPUs: one batch against one site at a time`,
        columns: [{ header: 'Batching' }, { header: 'Sync rounds' }, { header: 'IPIs sent' }, { header: 'Patch time' }, { header: 'int3 hits' }, { header: 'Stall total' }],
        rows: [
          ['all sites, 3 syncs', batch.syncRounds, batch.ipisSent, batch.patchCycles, batch.int3OtherCpus, batch.stallTotal],
          ['one site at a time', each.syncRounds, each.ipisSent, each.patchCycles, each.int3OtherCpus, each.stallTotal],
        ],
      },
      ...costCurveBlocks(curve),
      figureTable(rows),
      chart('Patch time by CPU count, quiet machine (cycles)', quiet.filter((r) => r.method !== 'direct'), (r) => r.patchCycles, 'cycles'),
      chart('Stall of all other CPUs together, quiet machine (cycles)', quiet.filter((r) => r.method !== 'direct'), (r) => r.stallTotal, 'cycles'),
      chart(`Worst stall of one CPU, ${String(largest)} CPUs, per situation (cycles)`, rows.filter((r) => r.cpus === largest && r.method !== 'direct'), (r) => r.stallWorst, 'cycles'),
      chart('IPIs sent, quiet machine', quiet.filter((r) => r.method !== 'direct'), (r) => r.ipisSent, 'IPIs'),
      chart('int3 hits on other CPUs (breakpoint method)', rows.filter((r) => r.method === 'breakpoint'), (r) => r.int3OtherCpus, 'traps'),
      chart('#GP under direct writes: every other CPU that runs the site dies', rows.filter((r) => r.method === 'direct' && r.variant === 'quiet'), (r) => r.gpFaults, '#GP'),
      {
        kind: 'table',
        title: 'An NMI at every few instructions of the patch window (flat timing), at CPU 1; its handler calls the patched function',
        columns: [{ header: 'Method' }, { header: "3.3 ftrace's NMI protocol" }, { header: 'Arrival times tried' }, { header: 'Crashed' }, { header: 'NMI did the write' }, { header: 'int3 inside the NMI' }],
        rows: sweeps.map((s) => [s.method, s.ftraceNmiProtocol ? 'yes' : 'no', s.arrivals, s.crashes, s.selfWrites, s.int3InNmi]),
      },
      {
        kind: 'paragraph',
        text:
          'A CPU stopped by stop_machine has interrupts off, but NMIs still arrive; when the NMI handler calls a function whose site ' +
          'is being written, it runs the half-written instruction. 3.3 ftrace makes the NMI do the same write itself ' +
          '(ftrace_nmi_enter / do_ftrace_mod_code). Under breakpoints the NMI handler takes the int3 instead, and the iret of ' +
          'that #BP unblocks NMIs inside the NMI handler: the window the NMI fix closes (apps/integration shows it with the kernel).',
      },
    ];
    return { id: 'patch', title: this.title, blocks, data: plain({ run: { ...run, machine: undefined, image: undefined }, figures: rows, costCurve: curve, batching: { batch: { syncRounds: batch.syncRounds, ipisSent: batch.ipisSent, patchCycles: batch.patchCycles }, each: { syncRounds: each.syncRounds, ipisSent: each.ipisSent, patchCycles: each.patchCycles } }, nmiSweeps: sweeps }) };
  },
};
