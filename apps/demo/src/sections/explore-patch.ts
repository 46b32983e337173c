import {
  MAX_EXPLORE_CPUS,
  PATCH_PROTOCOLS,
  PROTOCOL_ALIASES,
  explorePatchProtocol,
  parsePatchCounterexample,
  patchCounterexampleFile,
  replayPatchCounterexample,
} from '@kernsim/text-patching';
import type { PatchCounterexampleFile, PatchExploreReport, PatchProtocol } from '@kernsim/text-patching';
import type { Block, SectionReport } from '../report/model.js';
import { choiceOption, intOption } from './options.js';
import { replayReport } from './replay-report.js';
import { progressLine } from './progress-line.js';
import { yieldToSignals } from './yield.js';
import { UsageError } from './section.js';
import type { SectionContext, SectionOptions } from './section.js';

/** `kernsim explore --patch …`: text patching's breakpoint protocol under the explorer (kept apart from the NMI options). */
export const PATCH_EXPLORE_OPTIONS = [
  { flags: '--patch <protocol>', description: `explore text patching instead: ${PATCH_PROTOCOLS.join(', ')} (or no-sync-1, no-sync-2, no-sync-3)` },
  { flags: '--cpus <n>', description: `with --patch: CPUs (2 to ${MAX_EXPLORE_CPUS}, default 2; CPU 0 patches, the others run the site)` },
] as const;

const PROTOCOL_NAMES = [...PATCH_PROTOCOLS, ...Object.keys(PROTOCOL_ALIASES)] as readonly string[];

function parsePatchPlan(o: SectionOptions): { readonly protocol: PatchProtocol; readonly cpus: number; readonly depth: number; readonly maxStates: number; readonly threads: number } {
  // None of the NMI-only options has a commander default, so a set one is told apart from unset.
  for (const nmiOnly of ['arch', 'entry', 'variant', 'without', 'nmis', 'start', 'checkpoint'] as const) {
    if (typeof o[nmiOnly] === 'string') throw new UsageError(`--${nmiOnly} applies to the NMI explorer, not to --patch`);
  }
  const name = choiceOption(o, 'patch', PROTOCOL_NAMES, 'full');
  return {
    protocol: PROTOCOL_ALIASES[name] ?? (name as PatchProtocol),
    cpus: intOption(o, 'cpus', 2, { min: 2, max: MAX_EXPLORE_CPUS }),
    depth: intOption(o, 'depth', 64, { min: 1, max: 10_000 }),
    maxStates: intOption(o, 'maxStates', 1_000_000, { min: 1, max: 1_000_000_000 }),
    // One thread unless asked: a pool's start-up costs more than these small searches gain.
    threads: intOption(o, 'threads', 1, { min: 1, max: 64 }),
  };
}

function violationBlocks(file: PatchCounterexampleFile, r = replayPatchCounterexample(file)): Block[] {
  return [
    { kind: 'heading', text: `${file.invariant} from ${file.params.start}` },
    { kind: 'paragraph', text: file.detail },
    { kind: 'pre', title: `Shortest schedule (${file.schedule.length} choices)`, text: r.schedule },
    { kind: 'pre', title: 'Trace before the failing step', text: r.trace },
    { kind: 'pre', title: 'At the failing step', text: [`site: ${r.siteBytes}`, ...r.cpus].join('\n') },
  ];
}

/** Whether a saved file is a patch counterexample (the NMI replay handles the rest). */
export function isPatchCounterexample(data: unknown): boolean {
  return typeof data === 'object' && data !== null && (data as { format?: unknown }).format === 'kernsim-patch-counterexample';
}

export function replayPatch(data: unknown, path: string): SectionReport {
  let file: PatchCounterexampleFile;
  let r: ReturnType<typeof replayPatchCounterexample>;
  try {
    file = parsePatchCounterexample(data);
    r = replayPatchCounterexample(file);
  } catch (e) {
    throw new UsageError(`${path}: ${(e as Error).message}`);
  }
  return replayReport({ invariant: file.invariant, start: file.params.start }, r, violationBlocks(file, r));
}

function verdictLine(r: PatchExploreReport, seconds: string, stopped: boolean): string {
  const counts = `(${r.states} states, ${r.schedules} schedules, ${seconds} s)`;
  if (r.violations.length > 0) return `${r.violations.length} violation${r.violations.length === 1 ? '' : 's'} found for ${r.budget} ${counts}`;
  if (stopped || r.verdict === 'incomplete') return `incomplete: stopped at ${r.states} states for ${r.budget} (${seconds} s); nothing violated so far`;
  return `verified for ${r.budget} ${counts}`;
}

export async function explorePatch(o: SectionOptions, ctx: SectionContext): Promise<SectionReport> {
  const p = parsePatchPlan(o);
  const stop = { requested: false };
  ctx.onInterrupt(() => {
    stop.requested = true;
  });
  const t0 = ctx.now();
  const progress = progressLine(ctx.stderr, 'explore');
  const r = await explorePatchProtocol({
    protocol: p.protocol,
    cpus: p.cpus,
    maxDepth: p.depth,
    maxStates: p.maxStates,
    threads: p.threads,
    shouldStop: () => stop.requested,
    onJob: async (start, _plans, states) => {
      await yieldToSignals();
      progress(`${start}: ${states} states, ${((ctx.now() - t0) / 1000).toFixed(1)} s`);
    },
  });
  const elapsed = ctx.now() - t0;
  progress(undefined);
  const files = r.violations.map((v) => patchCounterexampleFile(r.params, v));
  const save = typeof o.save === 'string' ? o.save : undefined;
  if (save !== undefined && files[0]) await ctx.writeFile(save, `${JSON.stringify(files[0], null, 2)}\n`);
  const blocks: Block[] = [
    { kind: 'paragraph', text: `Text patching, ${p.protocol === 'direct' ? 'the direct write' : `breakpoint protocol ${p.protocol}`}: ${verdictLine(r, (elapsed / 1000).toFixed(1), stop.requested)}.` },
    { kind: 'table', title: 'Phases (search starts)', columns: [{ header: 'start' }, { header: 'verdict' }, { header: 'states' }, { header: 'exhaustive' }], rows: r.starts.map((s) => [s.start, s.verdict, s.states, s.exhaustive ? 'yes' : 'depth-bounded']) },
  ];
  for (const f of files) blocks.push(...violationBlocks(f));
  if (save !== undefined) blocks.push({ kind: 'paragraph', text: files[0] ? `Saved the first counterexample to ${save}: kernsim explore --replay ${save}` : `Nothing to save to ${save}: no violation.` });
  const data = {
    verdict: stop.requested && r.verdict !== 'violated' ? 'incomplete' : r.verdict,
    budget: r.budget,
    states: r.states,
    schedules: r.schedules,
    elapsedMs: Math.round(elapsed),
    starts: r.starts,
    violations: r.violations.map((v) => ({ invariant: v.invariant, start: v.start, detail: v.detail, schedule: v.schedule })),
  };
  return { id: 'explore', title: 'Explorer: text patching, every order of the CPUs\' steps, no hints', blocks, data };
}
