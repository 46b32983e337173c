import { runScenario as runI386 } from '@kernsim/nmi-i386';
import { renderStackSvg, renderStackText, runScenario as runX86, SCENARIO_IDS, stackDiagrams } from '@kernsim/nmi-x86_64';
import type { ScenarioId, ScenarioResult } from '@kernsim/nmi-x86_64';
import type { Block, SectionReport } from '../report/model.js';
import { choiceOption, intOption } from './options.js';
import type { Section, SectionOptions } from './section.js';

type ArchName = 'x86_64' | 'i386';
type EntryName = 'naive' | 'nested';

function run(arch: ArchName, entry: EntryName, scenario: ScenarioId, delay: number | undefined): ScenarioResult {
  const extra = delay === undefined ? {} : { delay };
  return arch === 'x86_64' ? runX86(scenario, { entry, ...extra }) : runI386(scenario, { latch: entry === 'nested', ...extra });
}

function entryLabel(arch: ArchName, entry: EntryName): string {
  if (arch === 'i386') return entry === 'nested' ? 'i386 3.3 (nmi_state latch)' : 'i386 without the latch';
  return entry === 'nested' ? 'x86_64 3.3 (nested-NMI entry)' : 'x86_64 before 3.3 (naive)';
}

function outcomeRow(arch: ArchName, entry: EntryName, r: ScenarioResult): (string | number)[] {
  return [
    entryLabel(arch, entry),
    r.crashed ? 'CRASHED' : 'survived',
    r.nmis.raised,
    r.nmis.handled,
    r.nmis.mergedByHardware,
    r.nmis.mergedBySoftware,
    r.nmis.unknown,
    r.accountedFor ? 'yes' : 'no',
    r.dump ? (r.dump.complete ? 'complete' : `partial (${r.dump.printedTasks.length}/${r.dump.expectedTasks.length} tasks)`) : '-',
    `${r.deepestNesting} / ${r.deepestHandlerNesting}`,
  ];
}

const COLUMNS = [
  { header: 'entry' },
  { header: 'outcome' },
  { header: 'raised' },
  { header: 'handled' },
  { header: 'merged (hw)' },
  { header: 'merged (entry)' },
  { header: 'unknown' },
  { header: 'accounted' },
  { header: 'dump' },
  { header: 'nesting NMI / handler' },
] as const;

function story(r: ScenarioResult, limit: number): string {
  const lines = r.events
    .filter((e) => e.kind !== 'landmark' || /nested_nmi|repeat_nmi|first_nmi|nmi_latched|nmi_restart/.test(e.text))
    .filter((e) => e.kind !== 'iret' || !e.text.includes('user_syscall_loop'))
    .map((e) => `[step ${String(e.step).padStart(6)}] cpu${e.cpu} ${e.text}`);
  return lines.length > limit ? [...lines.slice(0, limit), `… ${lines.length - limit} more events`].join('\n') : lines.join('\n');
}

function detail(arch: ArchName, entry: EntryName, r: ScenarioResult): Block[] {
  const blocks: Block[] = [
    { kind: 'heading', text: `${entryLabel(arch, entry)}: ${r.crashed ? 'crashed' : 'survived'}` },
    { kind: 'paragraph', text: r.crashed ? `Why: ${r.crashReason ?? ''}` : 'Every NMI was handled or merged the way the hardware would merge it.' },
    { kind: 'pre', title: 'What happened (trace summary)', text: story(r, 45) },
    { kind: 'pre', title: 'Serial console', text: r.console.length > 1600 ? `${r.console.slice(0, 1600)}\n…` : r.console || '(nothing printed)' },
  ];
  if (arch === 'x86_64') {
    const diagrams = stackDiagrams(r);
    if (diagrams.length > 0) {
      blocks.push({ kind: 'pre', title: 'The NMI stack, from live machine state (* = changed since the previous picture)', text: diagrams.map(renderStackText).join('\n\n') });
      blocks.push({ kind: 'figure', title: 'NMI stack sequence', svg: renderStackSvg(diagrams), alt: `${diagrams.length} pictures of the NMI stack` });
    }
  }
  return blocks;
}

export const nmiSection: Section = {
  id: 'nmi',
  title: 'The x86 NMI iret problem',
  summary: 'NMI handlers that fault or hit breakpoints: the pre-3.3 x86_64 entry crashes, the 3.3 entry and the i386 latch hold',
  options: [
    { flags: '--arch <arch>', description: 'x86_64 or i386' },
    { flags: '--entry <entry>', description: 'naive (before 3.3) or nested (3.3); on i386: without or with the latch' },
    { flags: '--scenario <id>', description: `one of ${SCENARIO_IDS.join(', ')}`, defaultValue: 'watchdog-dump' },
    { flags: '--delay <n>', description: 'instructions after the first exception\'s iret at which the second NMI arrives' },
  ],
  run(options: SectionOptions): SectionReport {
    const scenario = choiceOption(options, 'scenario', SCENARIO_IDS, 'watchdog-dump');
    const delay = typeof options.delay === 'string' ? intOption(options, 'delay', 0, { min: 0, max: 1_000_000 }) : undefined;
    const archGiven = typeof options.arch === 'string';
    const entryGiven = typeof options.entry === 'string';
    const arch = choiceOption<ArchName>(options, 'arch', ['x86_64', 'i386'], 'x86_64');
    const entry = choiceOption<EntryName>(options, 'entry', ['naive', 'nested'], 'nested');
    const runs: { arch: ArchName; entry: EntryName }[] =
      archGiven || entryGiven
        ? [{ arch, entry }]
        : [
            { arch: 'x86_64', entry: 'naive' },
            { arch: 'x86_64', entry: 'nested' },
            { arch: 'i386', entry: 'nested' },
          ];
    if (scenario === 'debug-stack' && runs.some((x) => x.arch === 'i386')) {
      runs.splice(0, runs.length, ...runs.filter((x) => x.arch === 'x86_64'));
    }
    const results = runs.map((x) => ({ ...x, result: run(x.arch, x.entry, scenario, delay) }));
    const first = results[0]?.result;
    const blocks: Block[] = [
      {
        kind: 'paragraph',
        text:
          'An NMI is over when the CPU executes iret, and so is a page fault or a breakpoint: an exception taken inside an NMI handler re-enables NMIs when it returns. ' +
          'On x86_64 the next NMI then starts again at the top of the same per-CPU NMI stack and writes over the running one. ' +
          'Each run below is real machine code on the simulated machine: the kernel, its #PF and #BP handlers, and the NMI entry.',
      },
      { kind: 'paragraph', text: `Scenario: ${first?.title ?? scenario}` },
      { kind: 'table', title: 'Outcome', columns: COLUMNS, rows: results.map((x) => outcomeRow(x.arch, x.entry, x.result)) },
      ...results.flatMap((x) => detail(x.arch, x.entry, x.result)),
    ];
    return {
      id: 'nmi',
      title: 'The x86 NMI iret problem',
      blocks,
      data: results.map((x) => ({
        arch: x.arch,
        entry: x.entry,
        scenario,
        crashed: x.result.crashed,
        crashReason: x.result.crashReason ?? null,
        nmis: x.result.nmis,
        accountedFor: x.result.accountedFor,
        dump: x.result.dump ?? null,
        deepestNesting: x.result.deepestNesting,
        deepestHandlerNesting: x.result.deepestHandlerNesting,
        console: x.result.console,
        events: x.result.events,
      })),
    };
  },
};
