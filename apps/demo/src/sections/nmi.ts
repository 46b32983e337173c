import { SCENARIO_IDS } from '@kernsim/kernel';
import type { ScenarioId, ScenarioResult } from '@kernsim/kernel';
import { runScenario as runI386 } from '@kernsim/nmi-i386';
import { renderStackSvg, renderStackText, runScenario as runX86, runSeriesCase, SERIES_CASES, stackDiagrams } from '@kernsim/nmi-x86_64';
import type { SeriesPart } from '@kernsim/nmi-x86_64';
import type { Block, SectionReport } from '../report/model.js';
import { choiceOption, intOption } from './options.js';
import { UsageError } from './section.js';
import type { Section, SectionOptions } from './section.js';

type ArchName = 'x86_64' | 'i386';
type EntryName = 'naive' | 'nested';

/** One run of the table: `without` leaves one part of the 3.3 series out of the nested entry. */
interface RunSpec {
  readonly arch: ArchName;
  readonly entry: EntryName;
  readonly without?: SeriesPart;
}

const PARTS: readonly SeriesPart[] = SERIES_CASES.map((c) => c.part);

function run(spec: RunSpec, scenario: ScenarioId, delay: number | undefined): ScenarioResult {
  const extra = delay === undefined ? {} : { delay };
  if (spec.arch === 'i386') return runI386(scenario, { latch: spec.entry === 'nested', ...extra });
  return runX86(scenario, { entry: spec.entry, ...(spec.without ? { nested: { [spec.without]: false } } : {}), ...extra });
}

function entryLabel(spec: RunSpec): string {
  const { arch, entry } = spec;
  if (arch === 'i386') return entry === 'nested' ? 'i386 3.3 (nmi_state latch)' : 'i386 without the latch';
  if (spec.without) return `x86_64 3.3 without ${spec.without}`;
  return entry === 'nested' ? 'x86_64 3.3 (nested-NMI entry)' : 'x86_64 before 3.3 (naive)';
}

function outcomeRow(spec: RunSpec, r: ScenarioResult): (string | number)[] {
  return [
    entryLabel(spec),
    r.crashed ? 'CRASHED' : 'survived',
    r.nmis.raised,
    r.nmis.handled,
    r.nmis.mergedByHardware,
    r.nmis.mergedBySoftware,
    r.nmis.lost,
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
  { header: 'lost' },
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

function detail(spec: RunSpec, r: ScenarioResult): Block[] {
  const blocks: Block[] = [
    { kind: 'heading', text: `${entryLabel(spec)}: ${r.crashed ? 'crashed' : 'survived'}` },
    { kind: 'paragraph', text: r.crashed ? `Why: ${r.crashReason ?? ''}` : 'Every NMI was handled or merged the way the hardware would merge it.' },
    { kind: 'pre', title: 'What happened (trace summary)', text: story(r, 45) },
    { kind: 'pre', title: 'Serial console', text: r.console.length > 1600 ? `${r.console.slice(0, 1600)}\n…` : r.console || '(nothing printed)' },
  ];
  if (spec.arch === 'x86_64') {
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
    { flags: '--scenario <id>', description: `one of ${SCENARIO_IDS.join(', ')}, or series (each part of the 3.3 series with and without it)`, defaultValue: 'watchdog-dump' },
    { flags: '--without <part>', description: `x86_64 nested entry: leave out one part of the 3.3 series (${PARTS.join(', ')})` },
    { flags: '--delay <n>', description: 'instructions after the first exception\'s iret at which the second NMI arrives' },
  ],
  run(options: SectionOptions): SectionReport {
    const scenarioOrSeries = choiceOption(options, 'scenario', [...SCENARIO_IDS, 'series'], 'watchdog-dump');
    if (scenarioOrSeries === 'series') return seriesReport();
    const scenario: ScenarioId = scenarioOrSeries;
    const without = typeof options.without === 'string' ? choiceOption(options, 'without', PARTS, PARTS[0]!) : undefined;
    const delay = typeof options.delay === 'string' ? intOption(options, 'delay', 0, { min: 0, max: 1_000_000 }) : undefined;
    const archGiven = typeof options.arch === 'string';
    const entryGiven = typeof options.entry === 'string';
    const arch = choiceOption<ArchName>(options, 'arch', ['x86_64', 'i386'], 'x86_64');
    const entry = choiceOption<EntryName>(options, 'entry', ['naive', 'nested'], 'nested');
    if (without && (arch !== 'x86_64' || entry !== 'nested')) throw new UsageError('--without applies to --arch x86_64 --entry nested only');
    if (scenario === 'debug-stack' && arch === 'i386') throw new UsageError('the debug-stack scenario is x86_64 only: i386 has no IST stacks');
    let runs: RunSpec[];
    if (archGiven || entryGiven || without) runs = [{ arch, entry, ...(without ? { without } : {}) }];
    else if (scenario === 'debug-stack') {
      runs = [
        { arch: 'x86_64', entry: 'nested', without: 'debugStackFix' },
        { arch: 'x86_64', entry: 'nested' },
      ];
    } else {
      runs = [
        { arch: 'x86_64', entry: 'naive' },
        { arch: 'x86_64', entry: 'nested' },
        { arch: 'i386', entry: 'nested' },
      ];
    }
    const results = runs.map((x) => ({ ...x, result: run(x, scenario, delay) }));
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
      { kind: 'table', title: 'Outcome', columns: COLUMNS, rows: results.map((x) => outcomeRow(x, x.result)) },
      ...results.flatMap((x) => detail(x, x.result)),
      {
        kind: 'paragraph',
        text: 'The 3.3 fix is a series: `--scenario series` runs each part (the variable, the stack check, the repeat guard, the re-arm, the third frame copy, the debug-stack IDT switch) with and without it; `--without <part>` leaves one out of any scenario.',
      },
    ];
    return {
      id: 'nmi',
      title: 'The x86 NMI iret problem',
      blocks,
      data: results.map((x) => ({
        arch: x.arch,
        entry: x.entry,
        without: x.without ?? null,
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

/** Each modelled part of the 3.3 series: the situation that needs it, run with it and without it. */
function seriesReport(): SectionReport {
  const rows = SERIES_CASES.map((c) => {
    const withIt = runSeriesCase(c.part);
    const without = runSeriesCase(c.part, { without: true, events: false, captureStacks: false });
    return { c, withIt, without };
  });
  const cell = (r: ScenarioResult): string => (r.crashed ? 'CRASHED' : `survived (${r.nmis.handled}/${r.nmis.raised} NMIs handled, accounted ${r.accountedFor ? 'yes' : 'no'})`);
  return {
    id: 'nmi',
    title: 'The x86 NMI iret problem: the parts of the 3.3 series',
    blocks: [
      {
        kind: 'paragraph',
        text:
          'The 3.3 fix is a series. Each row is one part, modelled in the x86_64 entry or in do_nmi, and the situation that needs it; ' +
          'the same machine runs it with the whole series and with everything but that part.',
      },
      {
        kind: 'table',
        title: 'With and without each part',
        columns: [{ header: 'part' }, { header: 'situation' }, { header: 'with it' }, { header: 'without it' }],
        rows: rows.map(({ c, withIt, without }) => [c.title, c.situation, cell(withIt), cell(without)]),
      },
      { kind: 'list', items: rows.map(({ c, without }) => `without ${c.part}: ${without.crashReason ?? 'no failure'}`) },
    ],
    data: rows.map(({ c, withIt, without }) => ({
      part: c.part,
      title: c.title,
      situation: c.situation,
      scenario: c.scenario,
      with: { crashed: withIt.crashed, crashReason: withIt.crashReason ?? null, nmis: withIt.nmis, accountedFor: withIt.accountedFor },
      without: { crashed: without.crashed, crashReason: without.crashReason ?? null, nmis: without.nmis, accountedFor: without.accountedFor },
    })),
  };
}
