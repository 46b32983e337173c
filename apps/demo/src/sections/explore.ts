import {
  counterexampleFile,
  ENTRY_VARIANTS,
  exploreNmi,
  I386_START_IDS,
  parseCounterexample,
  renderStackSvg,
  renderStackText,
  replayCounterexample,
  SERIES_PARTS,
  START_IDS,
  START_STATES,
} from '@kernsim/nmi-x86_64';
import type { CounterexampleFile, NmiExploreReport, NmiViolation, StartId } from '@kernsim/nmi-x86_64';
import { availableParallelism } from 'node:os';
import { progressLine } from './progress-line.js';
import { yieldToSignals } from './yield.js';
import type { Block, SectionReport } from '../report/model.js';
import { PATCH_EXPLORE_OPTIONS, explorePatch, isPatchCounterexample, replayPatch } from './explore-patch.js';
import { replayReport } from './replay-report.js';
import { choiceOption, intOption, stringOption } from './options.js';
import { UsageError } from './section.js';
import type { Section, SectionContext, SectionOptions } from './section.js';

interface Plan {
  readonly arch: 'x86_64' | 'i386';
  readonly entry: 'naive' | 'nested';
  readonly variant?: (typeof ENTRY_VARIANTS)[number];
  readonly without?: (typeof SERIES_PARTS)[number];
  readonly nmis: number;
  readonly starts: readonly StartId[];
  readonly depth: number;
  readonly maxStates: number;
  readonly threads: number;
}

function parsePlan(o: SectionOptions): Plan {
  if (typeof o.cpus === 'string') throw new UsageError('--cpus applies to --patch (text patching), not to the NMI explorer');
  const arch = choiceOption(o, 'arch', ['x86_64', 'i386'] as const, 'x86_64');
  const entry = choiceOption(o, 'entry', ['naive', 'nested'] as const, 'nested');
  const rawVariant = typeof o.variant === 'string' ? choiceOption(o, 'variant', ENTRY_VARIANTS, 'variable-only') : undefined;
  const without = typeof o.without === 'string' ? choiceOption(o, 'without', SERIES_PARTS, 'stackCheck') : undefined;
  if (entry === 'naive' && (rawVariant !== undefined || without !== undefined)) throw new UsageError('--variant and --without apply to --entry nested');
  if (rawVariant !== undefined && without !== undefined) throw new UsageError('give --variant or --without, not both');
  if (arch === 'i386' && without !== undefined) throw new UsageError('--without applies to the x86_64 3.3 entry');
  if ((arch === 'i386') !== (rawVariant === 'no-cmpxchg') && rawVariant !== undefined) throw new UsageError(`--variant ${rawVariant} is ${rawVariant === 'no-cmpxchg' ? 'i386\'s (--arch i386)' : 'an x86_64 design'}`);
  const startIds = arch === 'i386' ? I386_START_IDS : START_IDS;
  const startList = stringOption(o, 'start', 'all');
  const starts = startList === 'all' ? startIds : startList.split(',').map((s) => {
    const id = startIds.find((x) => x === s.trim());
    if (!id) throw new UsageError(`--start must be all or a comma-separated list of ${startIds.join(', ')}; got "${s}"`);
    return id;
  });
  return {
    arch,
    entry,
    ...(rawVariant !== undefined ? { variant: rawVariant } : {}),
    ...(without !== undefined ? { without } : {}),
    nmis: intOption(o, 'nmis', 2, { min: 0, max: 8 }),
    starts,
    depth: intOption(o, 'depth', 6000, { min: 1, max: 100_000 }),
    maxStates: intOption(o, 'maxStates', 6_000_000, { min: 1, max: 1_000_000_000 }),
    threads: intOption(o, 'threads', DEFAULT_THREADS, { min: 1, max: 64 }),
  };
}

/**
 * Two threads where the host has two cores: the pool reports the same states, verdicts and
 * counterexamples as one thread (threads pull their own jobs and share one visited table), and
 * the default search took 8.3 s on two against 12.2 s on one on a quiet 2-core host.
 */
const DEFAULT_THREADS = Math.min(2, availableParallelism());

function entryName(p: Plan): string {
  if (p.arch === 'i386') return p.entry === 'naive' ? 'i386 without the nmi_state latch' : p.variant ? 'i386 nmi_state latch without cmpxchg' : 'i386 3.3 (nmi_state latch with cmpxchg)';
  if (p.entry === 'naive') return 'x86_64 before 3.3 (naive)';
  if (p.variant === 'ret-from-fault') return 'x86_64, Desnoyers 2010: pre-3.3 entry, #PF/#BP return to NMI context with ret';
  if (p.variant === 'faulting-iret') return 'x86_64, Torvalds 2010: per-CPU NMI frame pointer, faulting iretq repeats the NMI';
  if (p.variant) return `x86_64 3.3 entry, ${p.variant}`;
  if (p.without) return `x86_64 3.3 entry without ${p.without}`;
  return 'x86_64 3.3 entry (nested)';
}

async function readJson(ctx: SectionContext, path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await ctx.readFile(path);
  } catch {
    throw new UsageError(`cannot read ${what} ${path}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new UsageError(`${what} ${path} is not JSON`);
  }
}

function violationBlocks(file: CounterexampleFile, r = replayCounterexample(file)): Block[] {
  return [
    { kind: 'heading', text: `${file.invariant} from ${file.params.start}` },
    { kind: 'paragraph', text: file.detail },
    { kind: 'pre', title: `Shortest schedule (${file.schedule.length} choices)`, text: r.schedule },
    { kind: 'pre', title: 'Trace before the failing step', text: r.trace },
    { kind: 'pre', title: 'The NMI stack at the failing step', text: renderStackText(r.diagram) },
    { kind: 'figure', title: 'NMI stack at the failing step', svg: renderStackSvg([r.diagram]), alt: `CPU 0's NMI stack, ${r.diagram.slots.length} slots` },
  ];
}

async function replay(path: string, ctx: SectionContext): Promise<SectionReport> {
  const data = await readJson(ctx, path, 'counterexample');
  if (isPatchCounterexample(data)) return replayPatch(data, path);
  let file: CounterexampleFile;
  let r: ReturnType<typeof replayCounterexample>;
  try {
    file = parseCounterexample(data);
    // A file whose params the model refuses is bad input too (exit 2), as for patch files.
    r = replayCounterexample(file);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`${path}: ${(e as Error).message}`);
  }
  return replayReport({ invariant: file.invariant, start: file.params.start }, r, violationBlocks(file, r));
}

function jsonOf(r: NmiExploreReport, elapsedMs: number, stopped: boolean): unknown {
  return {
    verdict: stopped && r.verdict !== 'violated' ? 'incomplete' : r.verdict,
    budget: r.budget,
    states: r.states,
    schedules: r.schedules,
    elapsedMs: Math.round(elapsedMs),
    starts: r.starts,
    violations: r.violations.map((v: NmiViolation) => ({ invariant: v.invariant, start: v.start, detail: v.detail, schedule: v.schedule })),
  };
}

async function explore(o: SectionOptions, ctx: SectionContext): Promise<SectionReport> {
  const p = parsePlan(o);
  const checkpoint = typeof o.checkpoint === 'string' ? o.checkpoint : undefined;
  let resume: NmiExploreReport['plans'] | undefined;
  if (checkpoint !== undefined) {
    const saved = await readJson(ctx, checkpoint, 'checkpoint').catch(() => undefined);
    if (saved !== undefined) resume = (saved as { plans?: NmiExploreReport['plans'] }).plans;
  }
  const stop = { requested: false };
  ctx.onInterrupt(() => {
    stop.requested = true;
  });
  const t0 = ctx.now();
  const progress = progressLine(ctx.stderr, 'explore');
  const r = await exploreNmi({
    arch: p.arch,
    entry: p.entry,
    ...(p.variant ? { variant: p.variant } : {}),
    ...(p.without ? { without: p.without } : {}),
    nmis: p.nmis,
    starts: p.starts,
    maxDepth: p.depth,
    maxStates: p.maxStates,
    threads: p.threads,
    ...(resume ? { resume } : {}),
    shouldStop: () => stop.requested,
    onJob: async (start, plans, states) => {
      await yieldToSignals();
      progress(`${start}: ${states} states, ${((ctx.now() - t0) / 1000).toFixed(1)} s`);
      if (checkpoint !== undefined) await ctx.writeFile(checkpoint, JSON.stringify({ plans }));
    },
  });
  const elapsed = ctx.now() - t0;
  progress(undefined);
  const files = r.violations.map((v) => counterexampleFile(r.params, v));
  const save = typeof o.save === 'string' ? o.save : undefined;
  if (save !== undefined && files[0]) await ctx.writeFile(save, `${JSON.stringify(files[0], null, 2)}\n`);
  const seconds = (elapsed / 1000).toFixed(1);
  const verdict =
    r.violations.length > 0
      ? `${r.violations.length} violation${r.violations.length === 1 ? '' : 's'} found for ${r.budget} (${r.states} states, ${r.schedules} schedules, ${seconds} s)`
      : stop.requested || r.verdict === 'incomplete'
        ? `incomplete: stopped at ${r.states} states for ${r.budget} (${seconds} s); nothing violated so far`
        : `verified for ${r.budget} (${r.states} states, ${r.schedules} schedules, ${seconds} s)`;
  const blocks: Block[] = [
    { kind: 'paragraph', text: `${entryName(p)}: ${verdict}.` },
    { kind: 'table', title: 'Start states', columns: [{ header: 'start' }, { header: 'verdict' }, { header: 'states' }, { header: 'exhaustive' }], rows: r.starts.map((s) => [s.start, s.verdict, s.states, s.exhaustive ? 'yes' : 'depth-bounded']) },
  ];
  for (const f of files) blocks.push(...violationBlocks(f));
  if (save !== undefined) blocks.push({ kind: 'paragraph', text: files[0] ? `Saved the first counterexample to ${save}: kernsim explore --replay ${save}` : `Nothing to save to ${save}: no violation.` });
  return { id: 'explore', title: 'Explorer: every NMI arrival, no hints', blocks, data: jsonOf(r, elapsed, stop.requested) };
}

export const exploreSection: Section = {
  id: 'explore',
  title: 'Explorer',
  summary: 'search every NMI arrival point for broken NMI entries (a model checker on the machine code)',
  standalone: true,
  options: [
    // No commander defaults on the NMI-only options: unset must be told apart, so --patch refuses them.
    { flags: '--arch <arch>', description: 'x86_64 (default) or i386 (naive: no latch, nested: the nmi_state latch)' },
    { flags: '--entry <entry>', description: 'naive (before 3.3) or nested (3.3, default)' },
    { flags: '--variant <variant>', description: `one of the article's other designs: ${ENTRY_VARIANTS.join(', ')}` },
    { flags: '--without <part>', description: `leave one part of the 3.3 series out: ${SERIES_PARTS.join(', ')}` },
    { flags: '--nmis <n>', description: 'NMIs the search may raise along one path (besides a start\'s own; default 2)' },
    { flags: '--start <ids>', description: `all (default), or some of: ${START_STATES.map((s) => s.id).join(', ')}` },
    { flags: '--depth <n>', description: 'longest schedule (default 6000; with --patch 64, in each phase)' },
    { flags: '--max-states <n>', description: 'state budget per start state (default 6000000; with --patch 1000000 per phase)' },
    { flags: '--threads <n>', description: `threads that search, this one included (default ${DEFAULT_THREADS}: 2 where the host has two cores; the same report as 1, faster when the second core is free; with --patch 1)` },
    { flags: '--save <file>', description: 'write the first counterexample to <file>' },
    { flags: '--replay <file>', description: 'replay a saved counterexample bit for bit' },
    { flags: '--checkpoint <file>', description: 'resume from <file> if it exists; keep it up to date after every job' },
    ...PATCH_EXPLORE_OPTIONS,
  ],
  async run(options, context) {
    if (!context) throw new UsageError('explore needs the command line (files, Ctrl-C)');
    if (typeof options.replay === 'string') return replay(options.replay, context);
    if (typeof options.patch === 'string') return explorePatch(options, context);
    return explore(options, context);
  },
};
