import { bootKernel } from './boot.js';
import type { Kernel } from './boot.js';
import { KernelError } from './errors.js';
import type { NmiEntry } from './nmi-entry.js';
import { scenarioSpec } from './scenarios.js';
import type { ScenarioId, ScenarioSpec } from './scenarios.js';
import { dueInjections, initialRunState, isQuiet, onEvent } from './scenario-state.js';
import type { Due, MachineView, RunContext, RunEvent, RunState } from './scenario-state.js';
import type { CpuNmiAccount, DumpStatus, PreparedRunOptions, RunOptions, ScenarioEvent, ScenarioResult, StackCapture } from './scenario-types.js';

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
  /** Restores the boot snapshot and runs with this second-NMI delay (the boot's options were fixed by `prepareNmiScenario`). */
  run(delay: number, options?: PreparedRunOptions): ScenarioResult;
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

/** The machine as the reducer's queries see it. */
function machineView(k: Kernel): MachineView {
  const m = k.machine;
  return {
    instructions: (cpu) => m.cpus[cpu]!.instructions,
    rip: (cpu) => m.cpus[cpu]!.rip,
    nmiPending: (cpu) => m.cpus[cpu]!.nmiPending,
  };
}

/**
 * Watches the entry's merge and repeat labels (and `nmi`, which resets "where the CPU
 * came from"); each execution is queued as an event for after the step. Returns the
 * function that removes the watches.
 */
function watchAccountingLabels(k: Kernel, queue: RunEvent[]): () => void {
  const entry = k.entry;
  const repeats = entry.repeatLabels ?? [];
  const labels = new Set<string>([...(entry.mergeLabels ?? []), ...repeats.map((r) => r.at)]);
  for (const r of repeats) if (r.after !== undefined) labels.add(r.after).add('nmi');
  const removers = [...labels].map((label) =>
    k.machine.onExecute(k.symbol(label), 1, (cpu) => {
      queue.push({ type: 'executed', cpu, label });
    }),
  );
  return () => {
    for (const remove of removers) remove();
  };
}

function runBooted(k: Kernel, spec: ScenarioSpec, options: PreparedRunOptions): ScenarioResult {
  options.setup?.(k);
  const m = k.machine;
  const keepEvents = options.events ?? true;
  const ncpu = k.cpuCount;
  const ctx: RunContext = {
    spec,
    wordSize: k.image.isa.w,
    symbolize: (a) => k.symbols.symbolize(a) ?? `0x${a.toString(16)}`,
    mergeLabels: k.entry.mergeLabels ?? [],
    repeatLabels: k.entry.repeatLabels ?? [],
  };
  let state = initialRunState(ctx, ncpu, k.entry.exitFrameOffsets, k.entry.trampolines.map((t) => k.symbol(t)));
  const events: ScenarioEvent[] = [];
  const stacks: StackCapture[] = [];
  const dispatch = (event: RunEvent): void => {
    const t = onEvent(state, event, ctx);
    state = t.state;
    if (keepEvents) for (const n of t.notes) events.push(n);
  };
  const executed: RunEvent[] = [];
  const unwatch = watchAccountingLabels(k, executed);
  m.startTrace({ kinds: ['delivery', 'iret', 'fault', 'nmi', 'death'] });
  const landmarks = new Map<bigint, string>();
  for (const l of k.entry.landmarks) {
    const a = k.image.symbols.get(l);
    if (a !== undefined) landmarks.set(a, l);
  }
  for (const l of ['nmi_handler_start', 'panic_halt']) landmarks.set(k.symbol(l), l);
  const symbolTargets = spec.injections.map((p) => (p.arrival.kind === 'at-symbol' ? k.symbol(p.arrival.symbol) : undefined));
  // Watching RIP costs a BigInt per step; sweeps that only need the outcome skip it.
  const watchRip = keepEvents || (options.captureStacks ?? true) || symbolTargets.some((t) => t !== undefined) || options.probe !== undefined;
  const view = machineView(k);
  try {
    const step = runLoop(k, { state: () => state, dispatch, executed, ctx, view, landmarks, symbolTargets, watchRip, options, stacks });
    if (state.crash === undefined && step >= spec.budget * ncpu) dispatch({ type: 'budget-spent' });
    return scenarioResult(k, spec, state, { steps: step, events, stacks, watchRip });
  } finally {
    unwatch();
  }
}

interface LoopParts {
  state(): RunState;
  dispatch(event: RunEvent): void;
  /** Accounting labels executed during the last step. */
  readonly executed: RunEvent[];
  readonly ctx: RunContext;
  readonly view: MachineView;
  readonly landmarks: ReadonlyMap<bigint, string>;
  readonly symbolTargets: readonly (bigint | undefined)[];
  readonly watchRip: boolean;
  readonly options: PreparedRunOptions;
  readonly stacks: StackCapture[];
}

/** Steps the CPUs round-robin, turning what happens into events, until the run crashes, settles or spends its budget. Returns the steps taken. */
function runLoop(k: Kernel, p: LoopParts): number {
  const m = k.machine;
  const ncpu = k.cpuCount;
  const budget = p.ctx.spec.budget * ncpu;
  const handlerStart = k.symbol('nmi_handler_start');
  const panicHalt = k.symbol('panic_halt');
  const raise = (step: number, cpu: number, source: 'watchdog' | 'sampler', due: Due | undefined): void => {
    p.dispatch({ type: 'raised', step, cpu, due });
    k.raisePmuNmi(cpu, source);
  };
  let traceIndex = 0;
  let rr = 0;
  let step = 0;
  for (; step < budget && p.state().crash === undefined; step++) {
    // The hardware: NMIs due now.
    for (const due of dueInjections(p.state(), p.ctx, p.view, p.symbolTargets)) {
      if (due.kind === 'symbol-seen') p.dispatch({ type: 'symbol-seen', injection: due.index });
      else raise(step, due.cpu, due.source, due);
    }
    const cpu = nextRunnable(k, rr);
    if (cpu < 0) break;
    rr = (cpu + 1) % ncpu;
    const probeSource = p.options.probe?.(k, cpu);
    if (probeSource) raise(step, cpu, probeSource, undefined);
    const rip = p.watchRip ? m.cpus[cpu]!.rip : 0n;
    const mark = p.watchRip ? p.landmarks.get(rip) : undefined;
    if (mark !== undefined) {
      if (rip === panicHalt) {
        p.dispatch({ type: 'panic', step, cpu, console: lastConsoleLine(m.console, 'BUG:'), explain: true });
        break;
      }
      p.dispatch({ type: 'landmark', step, cpu, label: mark, handlerStart: rip === handlerStart });
      if (p.options.captureStacks ?? true) captureStack(k, p.state(), p.stacks, step, cpu, mark);
    }
    m.step(cpu);
    if (m.trace.length !== traceIndex) {
      const trace = m.trace;
      for (; traceIndex < trace.length; traceIndex++) {
        const e = trace[traceIndex]!;
        p.dispatch({ type: 'trace', step, event: e, instructions: m.cpus[e.cpu]!.instructions });
      }
    }
    for (const e of p.executed.splice(0)) p.dispatch(e);
    if (!p.watchRip && m.isHalted(cpu)) {
      p.dispatch({ type: 'panic', step, cpu, console: lastConsoleLine(m.console, 'BUG:'), explain: false });
      break;
    }
    if ((step & 15) !== 0) continue;
    p.dispatch({ type: 'quiet', step, quiet: isQuiet(p.state(), p.ctx, p.view) });
    const since = p.state().quietSince;
    if (since !== undefined && step - since > 64) break;
  }
  return step;
}

function nextRunnable(k: Kernel, from: number): number {
  const ncpu = k.cpuCount;
  for (let i = 0; i < ncpu; i++) {
    const c = (from + i) % ncpu;
    if (k.machine.isRunnable(c)) return c;
  }
  return -1;
}

/** Records the words of the CPU's NMI stack at a landmark (x86_64, at most 24 captures). */
function captureStack(k: Kernel, state: RunState, stacks: StackCapture[], step: number, cpu: number, landmark: string): void {
  if (stacks.length >= 24 || k.image.arch !== 'x86_64' || landmark === 'nmi_handler_start') return;
  const w = k.image.isa.w;
  const top = k.nmiStackTop(cpu);
  const view = k.machine.stackView(cpu, top - BigInt(STACK_WORDS * w), top);
  const words: bigint[] = [];
  const pushedBy: (string | undefined)[] = [];
  for (let i = view.length - 1; i >= 0; i--) {
    const slot = view[i]!;
    words.push(slot.value);
    pushedBy.push(slot.frame !== undefined ? `${slot.frame} ${slot.field ?? ''}${slot.overwritten ? ' (overwritten)' : ''}` : undefined);
  }
  const textEnd = k.symbol('__kernel_text_end');
  const sym = (a: bigint): string => k.symbols.symbolize(a) ?? `0x${a.toString(16)}`;
  const symbols = words.map((v) => (v >= k.image.layout.text && v < textEnd ? sym(v) : undefined));
  stacks.push({ step, cpu, landmark, title: `CPU ${cpu} at ${landmark}`, top, words, pushedBy, symbols, activeNmis: state.nmis.active(cpu).length });
}

/** One CPU's NMI figures: the hardware's counters, the kernel's, and the merges and losses the run counted where they happened. */
function accountCpu(k: Kernel, state: RunState, cpu: number, watchRip: boolean): CpuNmiAccount {
  const hw = k.machine.cpus[cpu]!.nmiCounters;
  const run = state.cpus[cpu]!;
  const pending = k.machine.cpus[cpu]!.nmiPending ? 1 : 0;
  const statusLeft = k.readPercpu(cpu, 'pmuStatus');
  return {
    cpu,
    raised: hw.raised,
    delivered: hw.delivered,
    mergedByHardware: hw.dropped,
    mergedBySoftware: run.merged,
    lost: run.lost,
    repeats: run.repeats,
    handled: Number(k.readPercpu(cpu, 'nmiCount')),
    unknown: Number(k.readPercpu(cpu, 'nmiUnknown')),
    pending,
    accountedFor: pending === 0 && statusLeft === 0n && run.lost === 0 && (!watchRip || run.lastHandlerStart >= run.lastRaise),
  };
}

function scenarioResult(
  k: Kernel,
  spec: ScenarioSpec,
  state: RunState,
  run: { readonly steps: number; readonly events: readonly ScenarioEvent[]; readonly stacks: readonly StackCapture[]; readonly watchRip: boolean },
): ScenarioResult {
  const perCpu = Array.from({ length: k.cpuCount }, (_, c) => accountCpu(k, state, c, run.watchRip));
  const sum = (f: (a: CpuNmiAccount) => number): number => perCpu.reduce((s, a) => s + f(a), 0);
  const consoleText = k.machine.console;
  return {
    scenario: spec.id,
    title: spec.title,
    arch: k.image.arch,
    entry: k.entry.id,
    crashed: state.crash !== undefined,
    crashReason: state.crash,
    corruptedReturns: state.nmis.corrupted,
    nmis: {
      raised: sum((a) => a.raised),
      handled: sum((a) => a.handled),
      mergedByHardware: sum((a) => a.mergedByHardware),
      mergedBySoftware: sum((a) => a.mergedBySoftware),
      lost: sum((a) => a.lost),
      repeats: sum((a) => a.repeats),
      unknown: sum((a) => a.unknown),
      perCpu,
    },
    accountedFor: perCpu.every((a) => a.accountedFor),
    console: consoleText,
    dump: spec.cpus.some((c) => c.lockedUp) ? dumpStatus(consoleText, k.tasks.map((t) => t.name)) : undefined,
    deepestNesting: state.nmis.deepest,
    deepestHandlerNesting: Math.max(...perCpu.map((a) => Number(k.readPercpu(a.cpu, 'nmiDepthMax')))),
    steps: run.steps,
    events: run.events,
    stacks: run.stacks,
    kprobeHits: perCpu.reduce((s, a) => s + Number(k.readPercpu(a.cpu, 'kprobeHits')), 0),
    pageFaults: state.pageFaults,
    breakpoints: state.breakpoints,
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
