import { createMachine } from '@kernsim/cpu-core';
import type { Machine } from '@kernsim/cpu-core';
import type { BuiltModel, SearchOptions } from '@kernsim/cpu-core/explore';
import { STAT, loadSmpKernel, smpMemoryMiB, varAddress } from '@kernsim/kernel/smp';
import type { VarName } from '@kernsim/kernel/smp';
import { TextPatchingError } from '../errors.js';
import { buildImage } from '../code/image.js';
import type { PatchImage } from '../code/image.js';
import type { BpSync } from '../code/patchers.js';
import { encodePatchTable } from '../code/tables.js';
import { codeViewMonitor, viewsExact } from './code-view.js';
import type { ViewState } from './code-view.js';
import { emitExploreLoop } from './explore-loop.js';
import { machineInvariants } from './invariants.js';
import { batchPatcherSteps } from './patcher-steps.js';
import { advanceTo, phasesOf, syncAnswered, syncsOf } from './phases.js';
import type { Phase } from './phases.js';

/**
 * The protocols the explorer checks: the breakpoint protocol whole, without each of its three
 * syncs (named after what the sync publishes), and the plain write as a control.
 */
export const PATCH_PROTOCOLS = ['full', 'no-int3-sync', 'no-tail-sync', 'no-head-sync', 'direct'] as const;
export type PatchProtocol = (typeof PATCH_PROTOCOLS)[number];

/** `no-sync-1` … `no-sync-3`: the syncs by their place in the protocol. */
export const PROTOCOL_ALIASES: Readonly<Record<string, PatchProtocol>> = { 'no-sync-1': 'no-int3-sync', 'no-sync-2': 'no-tail-sync', 'no-sync-3': 'no-head-sync' };

const OMITTED: Readonly<Record<PatchProtocol, BpSync | undefined>> = { full: undefined, 'no-int3-sync': 'int3', 'no-tail-sync': 'tail', 'no-head-sync': 'head', direct: undefined };

/** Everything that defines one search, as JSON (a worker rebuilds the model from it). */
export interface PatchModelParams {
  readonly protocol: PatchProtocol;
  /** CPUs: CPU 0 patches, the others call the patched function in a loop (2–4). */
  readonly cpus: number;
  /** Where the search starts: `start`, or right after one of the protocol's syncs (`after-int3-sync` …). */
  readonly start: string;
  readonly maxDepth: number;
  readonly maxStates?: number;
  /** cpu-core's rule for a fetch of bytes another CPU changed: #GP (default) or run them as they are. */
  readonly crossModifyingCode?: 'fault' | 'execute';
}

export interface PatchModel extends BuiltModel {
  readonly image: PatchImage;
  readonly phase: Phase;
}

export const MAX_EXPLORE_CPUS = 4;

/** The phases (start states) of a protocol's search, in order. */
export function protocolPhases(protocol: PatchProtocol): readonly Phase[] {
  return phasesOf(syncsOf(OMITTED[protocol], protocol === 'direct'));
}

function bad(why: string): never {
  throw new TextPatchingError('KERNSIM_PATCH_BAD_OPTIONS', why);
}

/** Checks params that may come from a file (a counterexample, a worker's job), so every field is looked at as unknown. */
function checkParams(p: PatchModelParams): Phase {
  const raw: { readonly [K in keyof PatchModelParams]?: unknown } = p;
  const protocol = PATCH_PROTOCOLS.find((x) => x === raw.protocol) ?? bad(`protocol must be one of ${PATCH_PROTOCOLS.join(', ')}, got ${JSON.stringify(raw.protocol)}`);
  if (!Number.isInteger(raw.cpus) || p.cpus < 2 || p.cpus > MAX_EXPLORE_CPUS) bad(`cpus must be an integer from 2 to ${MAX_EXPLORE_CPUS}, got ${JSON.stringify(raw.cpus)}`);
  if (!Number.isInteger(raw.maxDepth) || p.maxDepth < 1) bad(`maxDepth must be a positive integer, got ${JSON.stringify(raw.maxDepth)}`);
  const cmc = raw.crossModifyingCode;
  if (cmc !== undefined && cmc !== 'fault' && cmc !== 'execute') bad(`crossModifyingCode must be fault or execute, got ${JSON.stringify(raw.crossModifyingCode)}`);
  const phases = protocolPhases(protocol);
  return phases.find((ph) => ph.id === raw.start) ?? bad(`start must be one of ${phases.map((ph) => ph.id).join(', ')} for ${protocol}, got ${JSON.stringify(raw.start)}`);
}

const images = new Map<string, PatchImage>();

function imageFor(protocol: PatchProtocol): PatchImage {
  let image = images.get(protocol);
  if (image === undefined) {
    const omitSync = OMITTED[protocol];
    image = buildImage({ arch: 'x86_64', user: 'ftrace', functions: 1, ftraceNmiProtocol: false, bpMode: 'skip', direction: 'on', extraCode: emitExploreLoop, ...(omitSync !== undefined ? { omitSync } : {}) });
    images.set(protocol, image);
  }
  return image;
}

/**
 * Boots the lean SMP kernel with one ftrace site (the article's 5-byte nop turning into a
 * call) under flat timing (an IPI lands inside the sending instruction, so every ordering is
 * a choice of which CPU steps): CPU 0 at `patcher_main`, about to run the protocol, the others
 * at `explore_loop`, calling the traced function in a loop.
 */
function boot(p: PatchModelParams, image: PatchImage): Machine {
  const { layout } = image;
  const m = createMachine({ arch: 'x86_64', timing: 'flat', cpus: p.cpus, seed: 1, memoryMiB: smpMemoryMiB(layout, p.cpus), recordSchedule: false, crossModifyingCode: p.crossModifyingCode ?? 'fault' });
  // Only the pages the code needs: snapshots and restores, one of each per backtrack, cost per mapped frame.
  const textSize = Math.ceil(image.code.bytes.length / 4096) * 4096;
  loadSmpKernel(m, { ...image, layout: { ...layout, textSize } }, p.cpus);
  const wr = (name: VarName, value: bigint): void => {
    m.write(varAddress(layout, name), 8, value);
  };
  m.writeBytes(layout.table, encodePatchTable(image.sites));
  wr('bpVec', layout.table);
  wr('bpNr', 1n);
  wr('onlineCpus', BigInt(p.cpus));
  const routine = image.symbol(p.protocol === 'direct' ? 'patch_direct' : 'patch_breakpoint');
  for (let i = 0; i < p.cpus; i++) {
    const cpu = m.cpus[i]!;
    m.start(i, { rip: image.symbol(i === 0 ? 'patcher_main' : 'explore_loop'), rsp: layout.stacks + BigInt((i + 1) * layout.stackSize) - 64n, interrupts: true });
    cpu.setReg('rbx', layout.work + BigInt(i * STAT.size));
    cpu.setReg('rsi', 0n);
    cpu.setReg('rdi', 0n);
    cpu.setReg('rcx', routine);
  }
  return m;
}

/**
 * The explorer's model of one phase of one protocol: the machine at the phase's start and the
 * search (no events: the only choice at a boundary is which CPU steps). A path ends when the
 * phase's closing sync has been answered by every CPU, or after the last sync when the patch
 * routine has returned, every CPU's view of the site is memory's bytes and every other CPU is
 * back at the top of its loop (out of every handler).
 */
export function buildPatchModel(p: PatchModelParams): PatchModel {
  const phase = checkParams(p);
  const image = imageFor(p.protocol);
  const m = boot(p, image);
  const loopTop = image.symbol('explore_loop');
  advanceTo(m, image, phase, loopTop);
  batchPatcherSteps(m, image);
  const site = image.sites[0]!;
  const bpInProgress = varAddress(image.layout, 'bpInProgress');
  const patchDone = varAddress(image.layout, 'patchDone');
  const monitor = codeViewMonitor(
    {
      site: site.address,
      oldBytes: site.oldBytes,
      newBytes: site.newBytes,
      patching: (mm) => mm.read(bpInProgress, 8) !== 0n,
      symbolize: (a) => m.symbols.symbolize(a) ?? `0x${a.toString(16)}`,
    },
    p.cpus,
  );
  const finished = (mm: Machine, s: ViewState): boolean => mm.read(patchDone, 8) !== 0n && viewsExact(s) && mm.cpus.every((c) => c.id === 0 || c.rip === loopTop);
  const options: SearchOptions = {
    maxDepth: p.maxDepth,
    invariants: machineInvariants(image, p.crossModifyingCode ?? 'fault'),
    monitors: [monitor],
    done: (mm, mons) => (phase.last ? finished(mm, mons[0] as ViewState) : syncAnswered(mm, image, phase)),
    // Every sync sends IPIs, which withdraws the reduction at once (cpu-core's README): search in full.
    reduction: false,
    // A snapshot or restore of this small machine costs ~20 steps: snapshot the path more often than the default 24.
    checkpointEvery: 8,
    sharedCode: [[site.address, site.address + BigInt(site.oldBytes.length)]],
    ...(p.maxStates !== undefined ? { maxStates: p.maxStates } : {}),
  };
  return { machine: m, options, image, phase };
}
