import { checkSchedule, formatSchedule, isCounterexampleFile } from '@kernsim/cpu-core/explore';
import type { CounterexampleFileOf, Finding } from '@kernsim/cpu-core/explore';
import { TextPatchingError } from '../errors.js';
import { hex } from '../forms.js';
import type { PatchViolation } from './explore-patch.js';
import { PATCH_PROTOCOLS, buildPatchModel } from './model.js';
import type { PatchModelParams, PatchProtocol } from './model.js';

/** A counterexample as `kernsim explore --patch … --save` writes it: enough to rebuild the model and replay. */
export type PatchCounterexampleFile = CounterexampleFileOf<'kernsim-patch-counterexample', PatchModelParams>;

export interface PatchReplay {
  /** The violations the invariants report along the replayed schedule (the saved one among them when it reproduces). */
  readonly findings: readonly Finding[];
  readonly reproduced: boolean;
  /** The last instructions, deliveries, faults and code writes before the failing step. */
  readonly trace: string;
  /** The site's bytes at the failing step. */
  readonly siteBytes: string;
  /** Where each CPU stands at the failing step. */
  readonly cpus: readonly string[];
  /** The machine's state hash at the end: the same file gives the same hash, bit for bit. */
  readonly hash: string;
  readonly schedule: string;
}

export function patchCounterexampleFile(params: Omit<PatchModelParams, 'start'>, v: PatchViolation): PatchCounterexampleFile {
  return { format: 'kernsim-patch-counterexample', version: 1, params: { ...params, start: v.start }, invariant: v.invariant, detail: v.detail, schedule: v.schedule };
}

/** Checks a parsed file's shape; throws `KERNSIM_PATCH_BAD_OPTIONS` on anything else (the model checks the params' values). */
export function parsePatchCounterexample(data: unknown): PatchCounterexampleFile {
  const ok = isCounterexampleFile(data, 'kernsim-patch-counterexample') && PATCH_PROTOCOLS.includes(data.params.protocol as PatchProtocol) && typeof data.params.start === 'string';
  if (!ok) throw new TextPatchingError('KERNSIM_PATCH_BAD_OPTIONS', 'not a kernsim patch counterexample (expected format kernsim-patch-counterexample, version 1, params, invariant, schedule)');
  return data as unknown as PatchCounterexampleFile; // protocol and start checked above; the model checks the rest
}

/** Rebuilds the model at the file's phase and replays the schedule with the invariants watching, tracing the end. */
export function replayPatchCounterexample(file: PatchCounterexampleFile, traceTail = 40): PatchReplay {
  const { machine: m, options, image } = buildPatchModel(file.params);
  const site = image.sites[0]!;
  m.startTrace({ kinds: ['instruction', 'delivery', 'iret', 'fault', 'write'] });
  const findings = checkSchedule(m, options, file.schedule);
  m.stopTrace();
  const events = m.trace;
  const trace = m.formatTrace(events.slice(Math.max(0, events.length - traceTail)));
  const cpus = m.cpus.map((c) => `CPU ${c.id}: ${c.status} at ${m.symbols.symbolize(c.rip) ?? `0x${c.rip.toString(16)}`}`);
  return {
    findings,
    reproduced: findings.some((f) => f.invariant === file.invariant),
    trace,
    siteBytes: hex(Array.from(m.readBytes(site.address, site.oldBytes.length))),
    cpus,
    hash: m.hash(),
    schedule: formatSchedule(file.schedule),
  };
}
