import { createMachine } from '@kernsim/cpu-core';
import type { Machine, TraceEvent } from '@kernsim/cpu-core';
import { VECTOR } from './code/context.js';
import type { UserKind } from './code/functions.js';
import { buildImage } from './code/image.js';
import type { ImageOptions, KernelImage, PatchSite } from './code/image.js';
import { STAT, varAddress } from './code/layout.js';
import type { BpMode, VarName } from './code/layout.js';
import { encodeKprobeTable, encodePatchTable, sortSites } from './code/tables.js';
import { TextPatchingError } from './errors.js';
import type { Bits } from './isa.js';

export type PatchMethod = 'direct' | 'stop-machine' | 'breakpoint';
export type PatchUser = UserKind;
export type Arch = 'x86_64' | 'i386';

export interface PatchConfig {
  readonly arch?: Arch;
  /** 1 to 4096 (default 2). CPU 0 patches; the others run the patched code in a loop. */
  readonly cpus?: number;
  readonly method: PatchMethod;
  readonly user?: PatchUser;
  /** `on` (default): nop to call/jmp (tracing on, key enabled, probe optimized); `off`: back to the nop (ftrace, static-key). */
  readonly direction?: 'on' | 'off';
  /** Sites patched in one go (default 1). */
  readonly sites?: number;
  /** Breakpoint method: all sites with the same three syncs (`batch`, default) or three syncs per site (`each`). */
  readonly batching?: 'batch' | 'each';
  /** Breakpoint method: what a CPU that hits a site's int3 does (default `skip`, the article's). */
  readonly bpMode?: BpMode;
  /** Work-loop iterations CPU 0 runs before it starts patching (default 2). */
  readonly startAfter?: number;
  /** One CPU spends this many cycles with interrupts off from the start (it runs no patched code meanwhile). */
  readonly irqOff?: { readonly cpu: number; readonly cycles: number };
  /** Inject an NMI at `cpu` once `afterCycles` have passed on CPU 0 since the patch started. */
  readonly nmi?: { readonly cpu: number; readonly afterCycles: number };
  /** stop_machine: write through 3.3 ftrace's NMI protocol (do_ftrace_mod_code + ftrace_nmi_enter). */
  readonly ftraceNmiProtocol?: boolean;
  /** Record what CPU 1 sees at site 0 (needs a trace; keep for small runs). */
  readonly observe?: boolean;
  /** Work-loop iterations every CPU runs after the patch is complete (default 2 per site). */
  readonly settle?: number;
  readonly seed?: number;
  /** Which CPU steps next: in turn (default) or seeded random, which varies the interleavings. */
  readonly scheduler?: 'round-robin' | 'random';
  /**
   * Round-robin: instructions each CPU runs per turn (default 1: every CPU advances in
   * lockstep, as parallel CPUs do). Larger turns simulate faster on many CPUs but stretch
   * waits (a spinning CPU burns its whole turn), so simulated times grow.
   */
  readonly quantum?: number;
  /** Safety net on simulated steps (default 60 million, or 50 000 per CPU when that is more). */
  readonly maxSteps?: number;
}

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
  readonly status: string;
}

export interface Listing {
  readonly when: string;
  readonly address: bigint;
  readonly bytes: Uint8Array;
}

export interface PatchResult {
  readonly config: Required<Omit<PatchConfig, 'irqOff' | 'nmi'>> & Pick<PatchConfig, 'irqOff' | 'nmi'>;
  /** The patch routine returned on CPU 0. */
  readonly completed: boolean;
  /** Simulated cycles from the start of the patch routine to its return (CPU 0's TSC). */
  readonly patchCycles: number;
  readonly stallTotal: number;
  readonly stallWorst: number;
  readonly ipisSent: number;
  readonly syncRounds: number;
  /** int3 traps taken by CPUs other than the patching one. */
  readonly int3OtherCpus: number;
  readonly gpFaults: number;
  /** Where the last #GP struck (the saved ip the #GP handler read), if any did. */
  readonly gpAt: bigint | undefined;
  readonly strayInt3: number;
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
  readonly steps: number;
  readonly image: KernelImage;
  readonly machine: Machine;
}

const REG = { x86_64: { bx: 'rbx', si: 'rsi', di: 'rdi', cx: 'rcx' }, i386: { bx: 'ebx', si: 'esi', di: 'edi', cx: 'ecx' } } as const;

function routineFor(method: PatchMethod, batching: 'batch' | 'each'): string {
  if (method === 'direct') return 'patch_direct';
  if (method === 'stop-machine') return 'patch_stop_machine';
  return batching === 'batch' ? 'patch_breakpoint' : 'patch_breakpoint_each';
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new TextPatchingError('KERNSIM_PATCH_BAD_OPTIONS', what);
}

/**
 * Builds a machine whose CPU 0 patches `sites` sites of a user's functions with a method
 * while every other CPU calls those functions in a loop, runs it until the patch is done
 * and every CPU has worked on a while, and reads the figures the machine code kept.
 */
export function runPatch(input: PatchConfig): PatchResult {
  const config = {
    arch: input.arch ?? 'x86_64',
    cpus: input.cpus ?? 2,
    method: input.method,
    user: input.user ?? 'ftrace',
    sites: input.sites ?? 1,
    direction: input.direction ?? 'on',
    batching: input.batching ?? 'batch',
    bpMode: input.bpMode ?? 'skip',
    startAfter: input.startAfter ?? 2,
    ftraceNmiProtocol: input.ftraceNmiProtocol ?? false,
    observe: input.observe ?? false,
    settle: input.settle ?? 2 * (input.sites ?? 1),
    seed: input.seed ?? 1,
    scheduler: input.scheduler ?? 'round-robin',
    quantum: input.quantum ?? 1,
    maxSteps: input.maxSteps ?? Math.max(60_000_000, (input.cpus ?? 2) * 50_000),
    ...(input.irqOff ? { irqOff: input.irqOff } : {}),
    ...(input.nmi ? { nmi: input.nmi } : {}),
  };
  check(['x86_64', 'i386'].includes(config.arch), `arch must be x86_64 or i386, got ${config.arch}`);
  check(Number.isInteger(config.cpus) && config.cpus >= 1 && config.cpus <= 4096, `cpus must be 1..4096, got ${String(config.cpus)}`);
  check(['direct', 'stop-machine', 'breakpoint'].includes(config.method), `method must be direct, stop-machine or breakpoint, got ${config.method}`);
  check(['ftrace', 'static-key', 'kprobe'].includes(config.user), `user must be ftrace, static-key or kprobe, got ${config.user}`);
  check(Number.isInteger(config.sites) && config.sites >= 1 && config.sites <= 1000, `sites must be 1..1000, got ${String(config.sites)}`);
  check(Number.isInteger(config.quantum) && config.quantum >= 1 && config.quantum <= 4096, `quantum must be 1..4096, got ${String(config.quantum)}`);
  check(['on', 'off'].includes(config.direction), `direction must be on or off, got ${config.direction}`);
  check(['skip', 'handler', 'emulate'].includes(config.bpMode), `bpMode must be skip, handler or emulate, got ${config.bpMode}`);
  if (config.irqOff) check(config.irqOff.cpu > 0 && config.irqOff.cpu < config.cpus, `irqOff.cpu must be another CPU than 0, got ${String(config.irqOff.cpu)}`);
  if (config.nmi) check(config.nmi.cpu >= 0 && config.nmi.cpu < config.cpus, `nmi.cpu must name a CPU, got ${String(config.nmi.cpu)}`);

  const bits: Bits = config.arch === 'x86_64' ? 64 : 32;
  const image = cachedImage({ bits, user: config.user, functions: config.sites, ftraceNmiProtocol: config.ftraceNmiProtocol, bpMode: config.bpMode, direction: config.direction });
  const { layout } = image;
  const m = createMachine({ arch: config.arch, timing: 'flat', cpus: config.cpus, seed: config.seed, memoryMiB: Math.max(64, Math.ceil((config.cpus * layout.stackSize) / 1048576) + 32) });
  const sites = sortSites(image.sites);
  loadImage(m, image, config.cpus);
  const v = (name: VarName): bigint => varAddress(layout, name);
  const word = bits === 64 ? 8 : 4;
  const wr = (name: VarName, value: bigint): void => {
    m.write(v(name), word, value);
  };
  m.writeBytes(layout.table, encodePatchTable(sites));
  wr('bpVec', layout.table);
  wr('bpNr', BigInt(sites.length));
  if (image.kprobes.length > 0) {
    m.writeBytes(layout.kprobeTable, encodeKprobeTable(image.kprobes, image.symbol('kprobe_pre_handler')));
    wr('kprobeVec', layout.kprobeTable);
    wr('kprobeNr', BigInt(image.kprobes.length));
    wr('slotsEnd', image.symbol('kprobe_slots_end'));
  }
  wr('onlineCpus', BigInt(config.cpus));
  if (config.ftraceNmiProtocol) wr('modifyingCode', 1n);
  if (sites.some((s) => (s.span ?? s.newBytes.length) > s.newBytes.length)) wr('quiesceOn', 1n);

  const regs = REG[config.arch];
  const routine = image.symbol(routineFor(config.method, config.batching));
  for (let i = 0; i < config.cpus; i++) {
    const cpu = m.cpus[i]!;
    const stackTop = layout.stacks + BigInt((i + 1) * layout.stackSize) - 64n;
    let rip = 'workload';
    let count = 0;
    if (i === 0) {
      rip = 'patcher_main';
      count = config.startAfter;
    } else if (config.irqOff?.cpu === i) {
      rip = 'irqoff_main';
      count = Math.max(1, Math.ceil(config.irqOff.cycles / 3));
    }
    m.start(i, { rip: image.symbol(rip), rsp: stackTop, interrupts: true });
    cpu.setReg(regs.bx, layout.work + BigInt(i * STAT.size));
    cpu.setReg(regs.si, BigInt(i % config.sites));
    cpu.setReg(regs.di, BigInt(count));
    cpu.setReg(regs.cx, routine);
  }

  const firstSite = image.sites[0]!;
  if (config.observe && config.cpus > 1) {
    m.watch(firstSite.address, firstSite.oldBytes.length, 'site');
    m.startTrace({ kinds: ['instruction', 'write'], cpus: [0, 1] });
  }

  // Run in rounds; the machine code keeps every figure, the loop only decides when to stop.
  const n = config.cpus;
  const chunk = n * 64;
  let steps = 0;
  const flag = (name: VarName): boolean => m.read(v(name), 4) !== 0n;
  let nmiAt: number | undefined;
  let doneAt: number | undefined;
  let settleTarget = Infinity;
  let hungAt: number | undefined;
  const listings: Listing[] = [];
  const fn0 = image.symbol(image.sites[0]!.function);
  const fnLength = Number(firstSite.address - fn0) + firstSite.oldBytes.length + 10;
  const runSync = image.symbol('run_sync');
  const smRun = image.symbol('stop_machine_text_poke');
  const stops = config.observe ? [runSync, routine, ...(config.method === 'stop-machine' ? [smRun] : [])] : [];
  let syncsSeen = 0;
  const atStop = (mm: Machine): boolean => {
    const rip = mm.cpus[0]!.rip;
    return stops.includes(rip);
  };
  const listing = (when: string): void => {
    listings.push({ when, address: fn0, bytes: m.readBytes(fn0, fnLength) });
  };
  while (steps < config.maxSteps) {
    const nmiDue = nmiAt !== undefined && nmiAt >= 0;
    const waitStart = config.nmi !== undefined && nmiAt === undefined;
    let until: ((mm: Machine) => boolean) | undefined;
    if (config.observe && doneAt === undefined) until = atStop;
    if (waitStart) until = (mm): boolean => mm.cpus[0]!.rip === routine || (config.observe && atStop(mm));
    else if (nmiDue) until = (mm): boolean => mm.cpus[0]!.cycles >= (nmiAt ?? 0) || (config.observe && doneAt === undefined && atStop(mm));
    const r = m.run({ steps: chunk, scheduler: config.scheduler === 'round-robin' ? { kind: 'round-robin', quantum: config.quantum } : { kind: 'random' }, ...(until ? { until } : {}) });
    steps += r.steps;
    if (r.reason === 'until' && waitStart && m.cpus[0]!.rip === routine) {
      nmiAt = m.cpus[0]!.cycles + (config.nmi?.afterCycles ?? 0);
    }
    if (r.reason === 'until' && nmiDue && m.cpus[0]!.cycles >= (nmiAt ?? 0)) {
      m.injectNmi(config.nmi?.cpu ?? 0);
      nmiAt = -1;
      continue;
    }
    if (r.reason === 'until' && stops.includes(m.cpus[0]!.rip)) {
      const rip = m.cpus[0]!.rip;
      if (rip === routine) listing('patch starts');
      else if (rip === smRun) listing('every CPU stopped, interrupts off (RUN): CPU 0 writes next');
      else listing(`sync ${String(++syncsSeen)}`);
      while (m.cpus[0]!.rip === rip && m.cpus[0]!.status === 'running') {
        m.step(0);
        steps++;
      }
      continue;
    }
    if (r.reason === 'until') {
      // stopped for the NMI's start point: step past the patch routine's first instruction
      m.step(0);
      steps++;
      continue;
    }
    if (r.reason === 'idle') break;
    if (doneAt === undefined && flag('patchDone')) {
      doneAt = steps;
      if (config.observe) listing('patch done');
      settleTarget = steps + config.settle * n * 64;
    }
    if (doneAt !== undefined && steps >= settleTarget) break;
    if (doneAt === undefined && m.cpus[0]!.status !== 'running' && m.cpus[0]!.status !== 'halted') break;
    // A CPU that died (#GP, unclaimed int3) never answers a sync or a rendezvous: give the
    // patcher a while, then call it hung, as the kernel's soft-lockup detector would.
    if (doneAt === undefined && hungAt === undefined && (flag('gpCount') || flag('strayInt3'))) hungAt = steps + HUNG_ROUNDS * chunk;
    if (hungAt !== undefined && doneAt === undefined && steps >= hungAt) break;
  }
  m.stopTrace();

  const rd = (name: VarName): number => Number(m.read(v(name), bits === 64 ? 8 : 4));
  const perCpu: CpuFigures[] = m.cpus.map((cpu, i) => {
    const base = layout.work + BigInt(i * STAT.size);
    const at = (off: number): number => Number(m.read(base + BigInt(off), bits === 64 ? 8 : 4));
    return { cpu: i, work: at(STAT.work), stall: at(STAT.stall), int3Hits: at(STAT.int3), int3InNmi: at(STAT.int3InNmi), ipisTaken: at(STAT.ipis), traced: at(STAT.traced), status: cpu.status };
  });
  const others = perCpu.slice(1);
  const completed = doneAt !== undefined;
  const patchCycles = completed ? Number(m.read(v('patchEndTsc'), 8) - m.read(v('patchStartTsc'), 8)) : 0;
  return {
    config,
    completed,
    patchCycles,
    stallTotal: others.reduce((s, c) => s + c.stall, 0),
    stallWorst: others.reduce((s, c) => Math.max(s, c.stall), 0),
    ipisSent: rd('ipisSent'),
    syncRounds: rd('syncRounds'),
    int3OtherCpus: others.reduce((s, c) => s + c.int3Hits, 0),
    gpFaults: rd('gpCount'),
    gpAt: rd('gpCount') > 0 ? BigInt.asUintN(bits, m.read(v('gpLastRip'), word)) : undefined,
    strayInt3: rd('strayInt3'),
    nmis: rd('nmiCount'),
    nmiSelfWrites: rd('nmiUpdateCount'),
    int3InNmi: perCpu.reduce((s, c) => s + c.int3InNmi, 0),
    traceCalls: rd('traceCalls'),
    kprobeHits: rd('kprobeHits'),
    kprobedCalls: rd('kprobedCalls'),
    filtered: rd('filtered'),
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

/** Rounds of every CPU stepping 64 times that a patcher may still finish in after a CPU died. */
const HUNG_ROUNDS = 64;

// Assembling the image costs far more than a small run; sweeps reuse it (it is never mutated).
const images = new Map<string, KernelImage>();

function cachedImage(options: ImageOptions): KernelImage {
  const key = JSON.stringify(options);
  let image = images.get(key);
  if (image === undefined) {
    image = buildImage(options);
    if (images.size >= 32) images.delete(images.keys().next().value ?? '');
    images.set(key, image);
  }
  return image;
}

/** Maps the image's memory, loads code and installs the gates. */
function loadImage(m: Machine, image: KernelImage, cpus: number): void {
  const { layout } = image;
  m.map(layout.text, layout.textSize);
  m.map(layout.data, layout.dataSize);
  m.map(layout.table, 0x8000);
  m.map(layout.kprobeTable, 0x4000);
  m.map(layout.work, Math.max(4096, cpus * STAT.size));
  m.map(layout.stacks, cpus * layout.stackSize);
  m.loadCode(image.code);
  if (image.slots) {
    m.map(layout.slots, Math.max(4096, image.slots.bytes.length));
    m.loadCode(image.slots);
  }
  m.addSymbols(image.symbols);
  m.setGate(VECTOR.nmi, { handler: image.symbol('nmi') });
  m.setGate(VECTOR.bp, { handler: image.symbol('int3') });
  m.setGate(VECTOR.gp, { handler: image.symbol('general_protection') });
  m.setGate(VECTOR.callFunction, { handler: image.symbol('call_function_interrupt') });
  m.setGate(VECTOR.reschedule, { handler: image.symbol('reschedule_interrupt') });
}
