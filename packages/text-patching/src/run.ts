import type { Machine, TraceEvent } from '@kernsim/cpu-core';
import { STAT, varAddress } from '@kernsim/kernel/smp';
import type { VarName } from '@kernsim/kernel/smp';
import { buildImage } from './code/image.js';
import type { ImageOptions, PatchImage, PatchSite } from './code/image.js';
import { resolvePatchConfig, routineFor } from './patch-config.js';
import type { PatchConfig, ResolvedPatchConfig } from './patch-config.js';
import { bootPatchMachine, driveToCompletion } from './patch-drive.js';
import type { Drive, Listing } from './patch-drive.js';
import { observeSites } from './site-observer.js';
import type { SiteObservation } from './site-observer.js';

export interface CpuFigures {
  readonly cpu: number;
  /** Iterations of its own work loop. */
  readonly work: number;
  /** Cycles spent in the patch's IPI handlers, stopper loop and int3 handler. */
  readonly stall: number;
  readonly int3Hits: number;
  /** Of those, traps taken inside this CPU's NMI handler. */
  readonly int3InNmi: number;
  readonly ipisTaken: number;
  /** Calls that reached the user's code (tracer, static-key branch, probe handler). */
  readonly traced: number;
  /** Calls of the kprobed functions (kprobe user only; 0 otherwise). */
  readonly calls: number;
  readonly status: string;
}

export interface StopMachineTerms {
  readonly wake: number;
  readonly join: number;
  readonly rendezvous: number;
}

export interface PatchResult {
  readonly config: ResolvedPatchConfig;
  /** The patch routine returned on CPU 0. */
  readonly completed: boolean;
  /** Simulated cycles from the start of the patch routine to its return (CPU 0's TSC). */
  readonly patchCycles: number;
  readonly stallTotal: number;
  readonly stallWorst: number;
  /** IPIs the patching code sent (its own count, one per destination). */
  readonly ipisSent: number;
  /** IPIs that arrived at a CPU, as the machine's local APICs counted them. */
  readonly ipisDelivered: number;
  /**
   * stop_machine's cost terms from the machine code's time stamps (the last stop_machine,
   * CPU 0's clock): `wake` queueing each stopper's work and sending its IPI, `join` until
   * the last stopper acknowledged PREPARE (IPI latency, the slowest CPU's path to its next
   * schedule point, the acknowledgements' line transfers), `rendezvous` from there to the
   * end of the patch (the other states' serialised acknowledgements and the writes).
   * Undefined for the other methods or an unfinished patch.
   */
  readonly stopMachineTerms: StopMachineTerms | undefined;
  readonly syncRounds: number;
  /** int3 traps taken by CPUs other than the patching one. */
  readonly int3OtherCpus: number;
  readonly gpFaults: number;
  /** Where the last #GP struck (the saved ip the #GP handler read), if any did. */
  readonly gpAt: bigint | undefined;
  /** int3 (and single-step #DB) traps nobody claimed. */
  readonly strayInt3: number;
  /**
   * The site whose bytes were not the expected old ones when the patcher compared them
   * (3.3 `ftrace_modify_code()`, 3.13 `add_break()`): ftrace_bug()'s ip; the patch stopped there.
   */
  readonly modifyFailed: bigint | undefined;
  /** BUG()s taken (text_poke's read-back, 3.13 jump labels' bug_at()), and where the last one struck. */
  readonly bugs: number;
  readonly bugAt: bigint | undefined;
  readonly nmis: number;
  /** NMIs that did the stop_machine writer's write themselves (3.3 ftrace's NMI protocol). */
  readonly nmiSelfWrites: number;
  /** int3 traps taken inside NMI handlers, on any CPU. */
  readonly int3InNmi: number;
  readonly traceCalls: number;
  readonly kprobeHits: number;
  readonly kprobedCalls: number;
  readonly filtered: number;
  readonly perCpu: readonly CpuFigures[];
  readonly sites: readonly PatchSite[];
  /** Bytes of every site at the end. */
  readonly finalBytes: readonly (readonly number[])[];
  /** Distinct byte states CPU 1 executed at site 0, in order (with `observe`). */
  readonly observed: readonly (readonly number[])[];
  /** Site 0's bytes each time the patching CPU started a sync round (with `observe`). */
  readonly atSyncs: readonly (readonly number[])[];
  /**
   * The first patched function's bytes read from simulated memory: when the patch routine
   * starts, at each sync round it starts, and when it has returned (with `observe`).
   */
  readonly listings: readonly Listing[];
  /** With `observeSites`: every site, what each CPU executed there and its bytes at each sync. */
  readonly siteObservations?: readonly SiteObservation[];
  readonly steps: number;
  readonly image: PatchImage;
  readonly machine: Machine;
}

/**
 * Builds a machine whose CPU 0 patches `sites` sites of a user's functions with a method
 * while every other CPU calls those functions in a loop, runs it until the patch is done
 * and every CPU has worked on a while, and reads the figures the machine code kept.
 */
export function runPatch(input: PatchConfig): PatchResult {
  return runPatchWith(input, () => undefined);
}

/**
 * `runPatch` with a hook that may change the booted machine before it runs (tests: a corrupted
 * poke address, other expected old bytes, a site of their own). Not part of the public API.
 */
export function runPatchWith(input: PatchConfig, prepare: (m: Machine, image: PatchImage) => void): PatchResult {
  const config = resolvePatchConfig(input);
  const image = cachedImage({ arch: config.arch, user: config.user, functions: config.sites, ftraceNmiProtocol: config.ftraceNmiProtocol, bpMode: config.bpMode, direction: config.direction });
  const routine = image.symbol(routineFor(config.method, config.batching, config.user));
  const m = bootPatchMachine(config, image, routine);
  prepare(m, image);
  const firstSite = image.sites[0]!;
  if (config.observe && config.cpus > 1) {
    m.watch(firstSite.address, firstSite.oldBytes.length, 'site');
    m.startTrace({ kinds: ['instruction', 'write'], cpus: [0, 1] });
  }
  const observed = config.observeSites ? observeSites(m, image) : undefined;
  const drive = driveToCompletion(m, image, config, routine);
  m.stopTrace();
  const result = patchResult(m, image, config, drive);
  return observed ? { ...result, siteObservations: observed() } : result;
}

/** Reads the figures the machine code kept. */
function patchResult(m: Machine, image: PatchImage, config: ResolvedPatchConfig, drive: Drive): PatchResult {
  const { layout } = image;
  const bits = config.arch === 'x86_64' ? 64 : 32;
  const word = bits === 64 ? 8 : 4;
  const v = (name: VarName): bigint => varAddress(layout, name);
  const firstSite = image.sites[0]!;
  const { steps, doneAt, listings } = drive;
  const rd = (name: VarName): number => Number(m.read(v(name), bits === 64 ? 8 : 4));
  const perCpu: CpuFigures[] = m.cpus.map((cpu, i) => {
    const base = layout.work + BigInt(i * STAT.size);
    const at = (off: number): number => Number(m.read(base + BigInt(off), bits === 64 ? 8 : 4));
    return { cpu: i, work: at(STAT.work), stall: at(STAT.stall), int3Hits: at(STAT.int3), int3InNmi: at(STAT.int3InNmi), ipisTaken: at(STAT.ipis), traced: at(STAT.traced), calls: at(STAT.calls), status: cpu.status };
  });
  const others = perCpu.slice(1);
  const traced = perCpu.reduce((s, c) => s + c.traced, 0);
  const completed = doneAt !== undefined;
  const patchCycles = completed ? Number(m.read(v('patchEndTsc'), 8) - m.read(v('patchStartTsc'), 8)) : 0;
  return {
    config,
    completed,
    patchCycles,
    stallTotal: others.reduce((s, c) => s + c.stall, 0),
    stallWorst: others.reduce((s, c) => Math.max(s, c.stall), 0),
    ipisSent: rd('ipisSent'),
    ipisDelivered: m.ipisDelivered,
    stopMachineTerms: completed && config.method === 'stop-machine' ? stopMachineTerms(m, layout) : undefined,
    syncRounds: rd('syncRounds'),
    int3OtherCpus: others.reduce((s, c) => s + c.int3Hits, 0),
    gpFaults: rd('gpCount'),
    gpAt: rd('gpCount') > 0 ? BigInt.asUintN(bits, m.read(v('gpLastRip'), word)) : undefined,
    strayInt3: rd('strayInt3'),
    modifyFailed: rd('modifyFailed') !== 0 ? BigInt.asUintN(bits, m.read(v('modifyFailed'), word)) : undefined,
    bugs: rd('bugCount'),
    bugAt: rd('bugCount') > 0 ? BigInt.asUintN(bits, m.read(v('bugLastRip'), word)) : undefined,
    nmis: rd('nmiCount'),
    nmiSelfWrites: rd('nmiUpdateCount'),
    int3InNmi: perCpu.reduce((s, c) => s + c.int3InNmi, 0),
    // the workload counts per CPU (as the kernel does); the machine-wide figures are their sums
    traceCalls: config.user === 'ftrace' ? traced : 0,
    kprobeHits: config.user === 'kprobe' ? traced : 0,
    kprobedCalls: perCpu.reduce((s, c) => s + c.calls, 0),
    filtered: config.user === 'static-key' ? traced : 0,
    perCpu,
    sites: image.sites,
    finalBytes: image.sites.map((s) => Array.from(m.readBytes(s.address, s.newBytes.length))),
    observed: config.observe ? observedStates(m.trace, firstSite, (e) => e.cpu === 1 && e.address === firstSite.address) : [],
    listings,
    atSyncs: config.observe ? observedStates(m.trace, firstSite, (e) => e.cpu === 0 && e.address === image.symbol('run_sync'), true) : [],
    steps,
    image,
    machine: m,
  };
}

function stopMachineTerms(m: Machine, layout: PatchImage['layout']): StopMachineTerms {
  const tsc = (name: VarName): bigint => m.read(varAddress(layout, name), 8);
  return {
    wake: Number(tsc('smQueueEndTsc') - tsc('smQueueStartTsc')),
    join: Number(tsc('smJoinedTsc') - tsc('smQueueEndTsc')),
    rendezvous: Number(tsc('patchEndTsc') - tsc('smJoinedTsc')),
  };
}

/** Replays the watched writes to a site against CPU 1's executions of it: the states it ran. */
function observedStates(
  trace: readonly TraceEvent[],
  site: PatchSite,
  at: (e: { readonly cpu: number; readonly address: bigint }) => boolean,
  all = false,
): number[][] {
  const bytes = [...site.oldBytes];
  const out: number[][] = [];
  const siteOff = Number(site.address & 0xfffn);
  for (const e of trace) {
    if (e.kind === 'write' && e.label === 'site') {
      // Writes carry physical addresses; the offset in the page maps them back to the site.
      for (let i = 0; i < e.size; i++) {
        const off = Number((e.physical + BigInt(i)) & 0xfffn) - siteOff;
        if (off >= 0 && off < bytes.length) bytes[off] = Number((e.value >> BigInt(8 * i)) & 0xffn);
      }
    }
    if (e.kind === 'instruction' && at(e)) {
      const last = out[out.length - 1];
      if (all || last === undefined || last.some((b, i) => b !== bytes[i])) out.push([...bytes]);
    }
  }
  return out;
}

// Assembling the image costs far more than a small run; sweeps reuse it (it is never mutated).
const images = new Map<string, PatchImage>();

function cachedImage(options: ImageOptions): PatchImage {
  const key = JSON.stringify(options);
  let image = images.get(key);
  if (image === undefined) {
    image = buildImage(options);
    if (images.size >= 32) images.delete(images.keys().next().value ?? '');
    images.set(key, image);
  }
  return image;
}
