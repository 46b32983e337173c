import type { Arch } from '@kernsim/cpu-core';
import { VECTOR } from '@kernsim/cpu-core';
import type { TraceEvent } from '@kernsim/cpu-core';
import { bootKernel } from './boot.js';
import type { Kernel } from './boot.js';
import { KernelError } from './errors.js';
import type { NmiEntry } from './nmi-entry.js';
import { NmiTracker } from './nmi-tracker.js';
import type { CorruptedReturn } from './nmi-tracker.js';
import { scenarioSpec } from './scenarios.js';
import type { ScenarioId, ScenarioSpec } from './scenarios.js';
import { frameContext } from './trace-reader.js';
import { KERNEL_VECTOR } from './vectors.js';

/** One line of the scenario trace (the story, not every instruction). */
export interface ScenarioEvent {
  /** Machine step (all CPUs) at which it happened. */
  readonly step: number;
  readonly cpu: number;
  readonly kind: 'nmi-raised' | 'nmi-latched' | 'nmi-dropped' | 'delivery' | 'iret' | 'fault' | 'landmark' | 'overwrite' | 'corrupted-return' | 'panic' | 'death';
  readonly text: string;
}

/** The words of one CPU's NMI stack at a landmark, for diagrams. */
export interface StackCapture {
  readonly step: number;
  readonly cpu: number;
  readonly landmark: string;
  readonly title: string;
  readonly top: bigint;
  /** From the top down: words[0] is the slot just below `top`. */
  readonly words: readonly bigint[];
  /** The same slots as cpu-core's stack view labels them (frame pushed by which delivery), or undefined. */
  readonly pushedBy: readonly (string | undefined)[];
  /** Kernel symbol of each value, when it is a code address. */
  readonly symbols: readonly (string | undefined)[];
  /** NMIs active on the CPU at the time (nesting). */
  readonly activeNmis: number;
}

export interface CpuNmiAccount {
  readonly cpu: number;
  /** NMIs raised at the CPU (by the PMU model or an IPI). */
  readonly raised: number;
  /** Delivered to the entry code. */
  readonly delivered: number;
  /** Lost at the hardware latch (one remembered, the rest merged). */
  readonly mergedByHardware: number;
  /** Delivered but folded into another run by the entry (3.3 nested path, i386 latch). */
  readonly mergedBySoftware: number;
  /** Runs of the handler chain (do_nmi past the nesting check). */
  readonly handled: number;
  readonly unknown: number;
  /** Still pending when the run ended. */
  readonly pending: number;
  /** Every raised NMI was followed by a handler run, and no PMU event is left unhandled. */
  readonly accountedFor: boolean;
}

export interface DumpStatus {
  readonly expectedTasks: readonly string[];
  readonly printedTasks: readonly string[];
  readonly headers: number;
  readonly complete: boolean;
}

export interface ScenarioResult {
  readonly scenario: ScenarioId;
  readonly title: string;
  readonly arch: Arch;
  readonly entry: string;
  readonly crashed: boolean;
  readonly crashReason: string | undefined;
  readonly corruptedReturns: readonly CorruptedReturn[];
  readonly nmis: { readonly raised: number; readonly handled: number; readonly mergedByHardware: number; readonly mergedBySoftware: number; readonly unknown: number; readonly perCpu: readonly CpuNmiAccount[] };
  readonly accountedFor: boolean;
  readonly console: string;
  readonly dump: DumpStatus | undefined;
  /** Deepest nesting of NMI deliveries on one CPU, and of handler runs (do_nmi inside do_nmi). */
  readonly deepestNesting: number;
  readonly deepestHandlerNesting: number;
  readonly steps: number;
  readonly events: readonly ScenarioEvent[];
  readonly stacks: readonly StackCapture[];
  readonly kprobeHits: number;
  readonly pageFaults: number;
  readonly breakpoints: number;
}

export interface RunOptions {
  /** Instructions after the first exception's iret (or after the first NMI) at which the second NMI arrives. */
  readonly delay?: number;
  readonly seed?: number;
  /** Capture the NMI stack at the entry's landmarks (default true). */
  readonly captureStacks?: boolean;
  /** Keep the story of events (default true; sweeps turn it off). */
  readonly events?: boolean;
  /** Serial line cost in cycles per byte. */
  readonly serialCyclesPerByte?: number;
  /** Replace the scenario's specification (tests of single windows build their own). */
  readonly spec?: ScenarioSpec;
  /** Called once after boot, before the first step (load more code, point a CPU elsewhere, register handlers). */
  readonly setup?: (k: Kernel) => void;
  /** Called before each step; return an NMI source to raise at that CPU now (tests of exact windows). */
  readonly probe?: (k: Kernel, cpu: number) => 'watchdog' | 'sampler' | undefined;
}

const STACK_WORDS = 48;

/** Boots the scenario's machine with the given NMI entry and runs it to the end; the result comes out of the simulation. */
export function runNmiScenario(entry: NmiEntry, id: ScenarioId, options: RunOptions = {}): ScenarioResult {
  const spec = options.spec ?? scenarioSpec(id, options.delay !== undefined ? { delay: options.delay } : {});
  const k = bootKernel({
    arch: entry.arch,
    entry,
    cpus: spec.cpus,
    sleepers: spec.sleepers,
    kprobes: spec.kprobes,
    seed: options.seed ?? 1,
    ...(options.serialCyclesPerByte !== undefined ? { serialCyclesPerByte: options.serialCyclesPerByte } : {}),
  });
  return runBooted(k, spec, options);
}

/** A scenario booted once, run many times from the same snapshot (sweeps over arrival points). */
export interface PreparedScenario {
  readonly kernel: Kernel;
  /** Restores the boot snapshot and runs with this second-NMI delay. */
  run(delay: number, options?: RunOptions): ScenarioResult;
}

export function prepareNmiScenario(entry: NmiEntry, id: ScenarioId, params: { readonly small?: boolean; readonly serialCyclesPerByte?: number } = {}): PreparedScenario {
  const base = scenarioSpec(id, { small: params.small ?? false });
  const k = bootKernel({
    arch: entry.arch,
    entry,
    cpus: base.cpus,
    sleepers: base.sleepers,
    kprobes: base.kprobes,
    ...(params.serialCyclesPerByte !== undefined ? { serialCyclesPerByte: params.serialCyclesPerByte } : {}),
  });
  const snap = k.machine.snapshot();
  return {
    kernel: k,
    run(delay, options = {}) {
      k.machine.restore(snap);
      return runBooted(k, scenarioSpec(id, { small: params.small ?? false, delay }), options);
    },
  };
}

function runBooted(k: Kernel, spec: ScenarioSpec, options: RunOptions): ScenarioResult {
  options.setup?.(k);
  const m = k.machine;
  const entry = k.entry;
  const w = k.image.isa.w;
  const keepEvents = options.events ?? true;
  const capture = options.captureStacks ?? true;
  const ncpu = k.cpuCount;
  const sym = (a: bigint): string => k.symbols.symbolize(a) ?? `0x${a.toString(16)}`;
  const tracker = new NmiTracker(entry.exitFrameOffsets, entry.trampolines.map((t) => k.symbol(t)));
  // Breakpoints too: a #BP frame overwritten by a nested #BP (same IST top) returns to the wrong stack.
  const bpTracker = new NmiTracker([0], [], { checkRip: false });
  const events: ScenarioEvent[] = [];
  const stacks: StackCapture[] = [];
  const note = (step: number, cpu: number, kind: ScenarioEvent['kind'], text: string): void => {
    if (keepEvents) events.push({ step, cpu, kind, text });
  };
  m.startTrace({ kinds: ['delivery', 'iret', 'fault', 'nmi', 'death'] });

  const landmarks = new Map<bigint, string>();
  for (const l of entry.landmarks) {
    const a = k.image.symbols.get(l);
    if (a !== undefined) landmarks.set(a, l);
  }
  for (const l of ['nmi_handler_start', 'panic_halt']) landmarks.set(k.symbol(l), l);
  const handlerStart = k.symbol('nmi_handler_start');
  const panicHalt = k.symbol('panic_halt');

  // Injection state.
  interface Pending {
    readonly cpu: number;
    readonly source: 'watchdog' | 'sampler';
    armedAt: number | undefined;
    fired: boolean;
    readonly spec: ScenarioSpec['injections'][number];
    seen: number;
  }
  const pending: Pending[] = spec.injections.map((s) => ({ cpu: s.cpu, source: s.source, armedAt: undefined, fired: false, spec: s, seen: 0 }));
  const symbolTargets = new Map<Pending, bigint>();
  for (const p of pending) if (p.spec.arrival.kind === 'at-symbol') symbolTargets.set(p, k.symbol(p.spec.arrival.symbol));
  const storm = spec.storm;
  const stormFired = new Array<number>(ncpu).fill(0);
  const lastRaise = new Array<number>(ncpu).fill(-1);
  const lastHandlerStart = new Array<number>(ncpu).fill(-1);
  const firstNmiSeen = new Array<number | undefined>(ncpu).fill(undefined);
  const exceptionIretSeen = new Array<number | undefined>(ncpu).fill(undefined);
  const lastNmiDelivery = new Array<number>(ncpu).fill(-1);
  let crash: string | undefined;
  let pageFaults = 0;
  let breakpoints = 0;
  let traceIndex = 0;
  let step = 0;
  let quietSince: number | undefined;
  let rr = 0;

  const raise = (cpu: number, source: 'watchdog' | 'sampler'): void => {
    lastRaise[cpu] = step;
    k.raisePmuNmi(cpu, source);
  };

  const instructions = (cpu: number): number => m.cpus[cpu]!.instructions;

  const processTrace = (): void => {
    const trace = m.trace;
    for (; traceIndex < trace.length; traceIndex++) {
      const e: TraceEvent = trace[traceIndex]!;
      const cpu = e.cpu;
      switch (e.kind) {
        case 'nmi':
          note(step, cpu, e.what === 'raised' ? 'nmi-raised' : e.what === 'latched' ? 'nmi-latched' : 'nmi-dropped', `NMI ${e.what} (${e.source})`);
          break;
        case 'delivery': {
          const ctx = frameContext(e.words, w);
          if (!ctx) break;
          if (e.vector === VECTOR.NMI) {
            const before = tracker.overwrites.length;
            const rec = tracker.delivered({ cpu, step, frame: ctx.frame, rip: ctx.rip, rsp: ctx.rsp, cs: ctx.cs });
            lastNmiDelivery[cpu] = step;
            firstNmiSeen[cpu] ??= instructions(cpu);
            note(step, cpu, 'delivery', `NMI #${rec.id} delivered: frame at 0x${ctx.frame.toString(16)}, interrupted ${sym(ctx.rip)} (rsp 0x${ctx.rsp.toString(16)}), nesting ${tracker.active(cpu).length}`);
            for (const o of tracker.overwrites.slice(before)) {
              note(step, cpu, 'overwrite', `NMI #${o.by}'s frame lands on NMI #${o.victim}'s at 0x${o.frame.toString(16)} (same IST top)`);
            }
          } else if (e.vector !== KERNEL_VECTOR.SYSCALL) {
            if (e.vector === VECTOR.PF) pageFaults++;
            if (e.vector === VECTOR.BP) {
              breakpoints++;
              const before = bpTracker.overwrites.length;
              bpTracker.delivered({ cpu, step, frame: ctx.frame, rip: ctx.rip, rsp: ctx.rsp, cs: ctx.cs });
              for (const o of bpTracker.overwrites.slice(before)) {
                note(step, cpu, 'overwrite', `#BP frame lands on an active #BP's frame at 0x${o.frame.toString(16)} (same debug IST top)`);
              }
            }
            note(step, cpu, 'delivery', `${e.name} delivered${tracker.active(cpu).length > 0 ? ' inside NMI context' : ''}: frame at 0x${ctx.frame.toString(16)}, from ${sym(ctx.rip)}`);
          }
          break;
        }
        case 'iret': {
          const ctx = frameContext(e.words, w);
          if (!ctx) break;
          const badBp = bpTracker.iret({ cpu, step, frame: ctx.frame, rip: ctx.rip, rsp: ctx.rsp, cs: ctx.cs });
          if (badBp) {
            crash ??= `corrupted return: the #BP handler's iret went to ${sym(badBp.landed.rip)} (rsp 0x${badBp.landed.rsp.toString(16)}) instead of back to ${sym(badBp.nmi.rip)}'s stack (rsp 0x${badBp.nmi.rsp.toString(16)}): its frame on the debug stack was overwritten by a breakpoint in the NMI handler`;
            note(step, cpu, 'corrupted-return', crash);
            break;
          }
          const activeBefore = tracker.active(cpu).length;
          const bad = tracker.iret({ cpu, step, frame: ctx.frame, rip: ctx.rip, rsp: ctx.rsp, cs: ctx.cs });
          const activeAfter = tracker.active(cpu).length;
          if (bad) {
            const by = bad.overwrittenBy.length > 0 ? `; its frame was overwritten by NMI #${bad.overwrittenBy.join(', #')}` : '';
            crash ??= `corrupted return: NMI #${bad.nmi.id}'s iretq went to ${sym(bad.landed.rip)} (rsp 0x${bad.landed.rsp.toString(16)}) instead of ${sym(bad.nmi.rip)} (rsp 0x${bad.nmi.rsp.toString(16)})${by}`;
            note(step, cpu, 'corrupted-return', crash);
          } else {
            note(step, cpu, 'iret', `iret to ${sym(ctx.rip)}${activeAfter < activeBefore ? ' (NMI done)' : activeBefore > 0 ? ' (NMIs unblocked inside NMI context)' : ''}`);
            if (activeAfter === activeBefore && activeBefore > 0) exceptionIretSeen[cpu] ??= instructions(cpu);
          }
          break;
        }
        case 'fault':
          if (e.vector !== KERNEL_VECTOR.SYSCALL) note(step, cpu, 'fault', `${e.name} at ${sym(e.rip)}: ${e.reason}`);
          break;
        case 'death':
          crash ??= `CPU ${cpu} died: ${e.reason}`;
          note(step, cpu, 'death', e.reason);
          break;
        default:
          break;
      }
    }
  };

  const captureStack = (cpu: number, landmark: string): void => {
    if (!capture || stacks.length >= 24 || k.image.arch !== 'x86_64' || landmark === 'nmi_handler_start') return;
    const top = k.nmiStackTop(cpu);
    const from = top - BigInt(STACK_WORDS * w);
    const view = m.stackView(cpu, from, top);
    const words: bigint[] = [];
    const pushedBy: (string | undefined)[] = [];
    for (let i = view.length - 1; i >= 0; i--) {
      words.push(view[i]!.value);
      pushedBy.push(view[i]!.frame !== undefined ? `${view[i]!.frame ?? ''} ${view[i]!.field ?? ''}${view[i]!.overwritten ? ' (overwritten)' : ''}` : undefined);
    }
    const textEnd = k.symbol('__kernel_text_end');
    const symbols = words.map((v) => (v >= k.image.layout.text && v < textEnd ? sym(v) : undefined));
    stacks.push({ step, cpu, landmark, title: `CPU ${cpu} at ${landmark}`, top, words, pushedBy, symbols, activeNmis: tracker.active(cpu).length });
  };

  // Watching RIP costs a BigInt per step; sweeps that only need the outcome skip it.
  const watchRip = keepEvents || capture || symbolTargets.size > 0 || options.probe !== undefined;
  const budget = spec.budget * ncpu;
  for (; step < budget && crash === undefined; step++) {
    // The hardware: injections due now.
    for (const p of pending) {
      if (p.fired) continue;
      const a = p.spec.arrival;
      let due = false;
      const ins = instructions(p.cpu);
      if (a.kind === 'at-step') due = ins >= a.step;
      else if (a.kind === 'after-first-nmi') due = firstNmiSeen[p.cpu] !== undefined && ins >= firstNmiSeen[p.cpu]! + a.delay;
      else if (a.kind === 'after-exception-iret') due = exceptionIretSeen[p.cpu] !== undefined && ins >= exceptionIretSeen[p.cpu]! + a.delay;
      else if (m.cpus[p.cpu]!.rip === symbolTargets.get(p)) {
        p.seen++;
        due = p.seen >= (a.occurrence ?? 1);
      }
      if (due) {
        p.fired = true;
        raise(p.cpu, p.source);
      }
    }
    if (storm) {
      for (const cpu of storm.cpus) {
        const n = stormFired[cpu]!;
        if (n < storm.count && instructions(cpu) >= storm.start + n * storm.period) {
          stormFired[cpu] = n + 1;
          raise(cpu, 'sampler');
        }
      }
    }
    // Pick the next runnable CPU, round-robin.
    let cpu = -1;
    for (let i = 0; i < ncpu; i++) {
      const c = (rr + i) % ncpu;
      if (m.isRunnable(c)) {
        cpu = c;
        break;
      }
    }
    if (cpu < 0) break;
    rr = (cpu + 1) % ncpu;
    const probeSource = options.probe?.(k, cpu);
    if (probeSource) raise(cpu, probeSource);
    const rip = watchRip ? m.cpus[cpu]!.rip : 0n;
    const mark = watchRip ? landmarks.get(rip) : undefined;
    if (mark !== undefined) {
      if (rip === handlerStart) lastHandlerStart[cpu] = step;
      if (rip === panicHalt) {
        // The latest overwrite is the one that did it (under 3.3 a nested NMI's hardware frame always lands on the first's, by design).
        const o = tracker.overwrites.findLast((x) => x.cpu === cpu);
        const b = bpTracker.overwrites.findLast((x) => x.cpu === cpu);
        const why = o
          ? ` (after NMI #${o.by} restarted the NMI stack on top of NMI #${o.victim}, whose frames it overwrote)`
          : b
            ? ' (after a breakpoint in the NMI handler restarted the debug IST stack on top of the interrupted #BP handler\'s frame)'
            : '';
        crash ??= `panic on CPU ${cpu}: ${lastConsoleLine(m.console, 'BUG:')}${why}`;
        note(step, cpu, 'panic', crash);
        break;
      }
      if (rip !== handlerStart) note(step, cpu, 'landmark', mark);
      captureStack(cpu, mark);
    }
    m.step(cpu);
    if (m.trace.length !== traceIndex) processTrace();
    if (!watchRip && m.isHalted(cpu)) {
      crash ??= `panic on CPU ${cpu}: ${lastConsoleLine(m.console, 'BUG:')}`;
      break;
    }
    if ((step & 15) !== 0) continue;
    // Finished: everything fired, no NMI active or pending anywhere, for a short while.
    const allFired = pending.every((p) => p.fired) && (!storm || storm.cpus.every((c) => stormFired[c]! >= storm.count));
    let quiet = allFired;
    if (quiet) {
      for (let c = 0; c < ncpu; c++) {
        // A #BP handler an NMI interrupted must have returned too (later breakpoints of a probed loop do not count).
        const bpOpen = bpTracker.active(c).some((b) => b.step <= lastNmiDelivery[c]!);
        if (tracker.active(c).length > 0 || bpOpen || m.cpus[c]!.nmiPending) {
          quiet = false;
          break;
        }
      }
    }
    if (!quiet) quietSince = undefined;
    else {
      quietSince ??= step;
      if (step - quietSince > 64) break;
    }
  }
  if (crash === undefined && step >= budget) crash = `stuck: the run did not settle within ${spec.budget} instructions per CPU`;

  // Accounting.
  const perCpu: CpuNmiAccount[] = [];
  for (let c = 0; c < ncpu; c++) {
    const hw = m.cpus[c]!.nmiCounters;
    const handled = Number(k.readPercpu(c, 'nmiCount'));
    const unknown = Number(k.readPercpu(c, 'nmiUnknown'));
    const pendingNow = m.cpus[c]!.nmiPending ? 1 : 0;
    const statusLeft = k.readPercpu(c, 'pmuStatus');
    perCpu.push({
      cpu: c,
      raised: hw.raised,
      delivered: hw.delivered,
      mergedByHardware: hw.dropped,
      mergedBySoftware: Math.max(0, hw.delivered - handled),
      handled,
      unknown,
      pending: pendingNow,
      accountedFor: pendingNow === 0 && statusLeft === 0n && (!watchRip || lastHandlerStart[c]! >= lastRaise[c]!),
    });
  }
  const sum = (f: (a: CpuNmiAccount) => number): number => perCpu.reduce((s, a) => s + f(a), 0);
  const consoleText = m.console;
  const dump = spec.cpus.some((c) => c.lockedUp) ? dumpStatus(consoleText, k.tasks.map((t) => t.name)) : undefined;
  return {
    scenario: spec.id,
    title: spec.title,
    arch: k.image.arch,
    entry: entry.id,
    crashed: crash !== undefined,
    crashReason: crash,
    corruptedReturns: tracker.corrupted,
    nmis: {
      raised: sum((a) => a.raised),
      handled: sum((a) => a.handled),
      mergedByHardware: sum((a) => a.mergedByHardware),
      mergedBySoftware: sum((a) => a.mergedBySoftware),
      unknown: sum((a) => a.unknown),
      perCpu,
    },
    accountedFor: perCpu.every((a) => a.accountedFor),
    console: consoleText,
    dump,
    deepestNesting: tracker.deepest,
    deepestHandlerNesting: Math.max(...perCpu.map((a) => Number(k.readPercpu(a.cpu, 'nmiDepthMax')))),
    steps: step,
    events,
    stacks,
    kprobeHits: perCpu.reduce((s, a) => s + Number(k.readPercpu(a.cpu, 'kprobeHits')), 0),
    pageFaults,
    breakpoints,
  };
}

function lastConsoleLine(text: string, marker: string): string {
  const i = text.lastIndexOf(marker);
  if (i < 0) return 'halted';
  return text.slice(i).split('\n').filter((l) => l.trim() !== '').join(' ').slice(0, 160);
}

/** Is the console's show_state output whole: one header, every task once in order, the footer? */
export function dumpStatus(text: string, tasks: readonly string[]): DumpStatus {
  const headers = text.split('SysRq : Show State').length - 1;
  const start = text.indexOf('SysRq : Show State');
  const body = start < 0 ? '' : text.slice(start);
  const printed = [...body.matchAll(/^ {2}task (\S+) pid/gm)].map((x) => x[1] ?? '');
  const footer = body.includes('-- end of task list --');
  const inOrder = printed.length === tasks.length && printed.every((n, i) => n === tasks[i]);
  return { expectedTasks: tasks, printedTasks: printed, headers, complete: headers === 1 && footer && inOrder };
}

export function assertScenario(id: string): ScenarioId {
  const ids: readonly string[] = ['watchdog-dump', 'perf-vmalloc', 'kprobe', 'storm', 'debug-stack'];
  if (!ids.includes(id)) throw new KernelError('KERNSIM_KERNEL_BAD_OPTIONS', `unknown scenario ${id}; expected one of ${ids.join(', ')}`);
  return id as ScenarioId;
}
