import { searchPoolProblem, searchStarts } from '@kernsim/cpu-core/explore';
import type { PlanData, StartsReport, StartVerdict, StartViolation } from '@kernsim/cpu-core/explore';
import { TextPatchingError } from '../errors.js';
import { buildPatchModel, protocolPhases } from './model.js';
import type { PatchModelParams, PatchProtocol } from './model.js';

export interface PatchExploreOptions {
  readonly protocol: PatchProtocol;
  /** CPUs (default 2): CPU 0 patches, the others run the site in a loop. */
  readonly cpus?: number;
  /** Longest schedule of each phase (default 64: the patching CPU takes 4–6 of them per phase, its private work between two visible actions being one choice; see `patcher-steps.ts`). */
  readonly maxDepth?: number;
  /** State budget per phase (default 1 000 000). */
  readonly maxStates?: number;
  readonly crossModifyingCode?: 'fault' | 'execute';
  /** Worker threads; 1 runs the jobs in this thread (default 1). */
  readonly threads?: number;
  /** Levels each subtree job explores before handing the rest back as new jobs (default 32). */
  readonly chunk?: number;
  /** Checkpoint to resume from: the `plans` of an earlier report. */
  readonly resume?: Readonly<Partial<Record<string, PlanData>>>;
  readonly shouldStop?: () => boolean;
  /** After every finished job (progress, checkpoint). */
  readonly onJob?: (start: string, plans: Readonly<Partial<Record<string, PlanData>>>, states: number) => void | Promise<void>;
}

/** `start` is the phase the search started from: `start` or `after-<sync>-sync`. */
export type PatchViolation = StartViolation;

export type PhaseVerdict = StartVerdict;

export type PatchExploreReport = StartsReport<string, PatchModelParams>;

const fromSource = import.meta.url.endsWith('.ts');

/**
 * The explorer on text patching: for each phase of the protocol (its start, and right after
 * each of its syncs), every order in which the CPUs take their instructions up to `maxDepth`,
 * judged by the patch invariants (`torn-instruction`, `stale-mix`, `oops`,
 * `neither-old-nor-new`), one shortest counterexample per (invariant, phase). Nothing tells it
 * where a CPU should be when a byte changes.
 */
export async function explorePatchProtocol(options: PatchExploreOptions): Promise<PatchExploreReport> {
  // Checked before any worker starts, as this package's error.
  const problem = searchPoolProblem(options.maxStates, options.threads);
  if (problem !== undefined) throw new TextPatchingError('KERNSIM_PATCH_BAD_OPTIONS', problem);
  const params: Omit<PatchModelParams, 'start'> = {
    protocol: options.protocol,
    cpus: options.cpus ?? 2,
    maxDepth: options.maxDepth ?? 64,
    maxStates: options.maxStates ?? 1_000_000,
    ...(options.crossModifyingCode !== undefined ? { crossModifyingCode: options.crossModifyingCode } : {}),
  };
  const phases = protocolPhases(options.protocol).map((phase) => phase.id);
  return searchStarts<string, PatchModelParams>({
    starts: phases,
    params,
    model: { build: buildPatchModel, module: new URL(fromSource ? './model.ts' : './model.js', import.meta.url).href, export: 'buildPatchModel' },
    budget: `${params.cpus} CPUs, depth ${params.maxDepth} in each of ${phases.length} phase${phases.length === 1 ? '' : 's'}`,
    chunk: options.chunk ?? 32,
    maxStates: params.maxStates ?? 1_000_000,
    threads: options.threads ?? 1,
    resume: options.resume,
    shouldStop: options.shouldStop,
    onJob: options.onJob,
  });
}
