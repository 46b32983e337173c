import { VECTOR } from '@kernsim/cpu-core';
import type { TraceEvent } from '@kernsim/cpu-core';
import { NmiTracker } from './nmi-tracker.js';
import type { ScenarioSpec } from './scenarios.js';
import type { ScenarioEvent } from './scenario-types.js';
import { frameContext } from './trace-reader.js';
import { KERNEL_VECTOR } from './vectors.js';

/**
 * The scenario runner as a reducer: everything a run knows besides the machine itself is
 * a `RunState`; `onEvent(state, event)` returns the next state and the story lines the
 * event adds, without touching the machine or the state it was given. The driver
 * (`scenario-runner.ts`) steps the machine and turns what it sees into events.
 */

/** One CPU's part of the run. Steps are machine steps; instruction counts are the CPU's own. */
export interface CpuRunState {
  /** Step at which the runner last raised an NMI at the CPU (-1: never). */
  readonly lastRaise: number;
  /** Step at which the CPU last started the NMI handler chain (-1: never). */
  readonly lastHandlerStart: number;
  readonly lastNmiDelivery: number;
  /** The CPU's instruction count at its first NMI delivery, and at the first exception iret inside an NMI. */
  readonly firstNmiAt: number | undefined;
  readonly exceptionIretAt: number | undefined;
  /** Storm NMIs raised so far. */
  readonly stormFired: number;
  /** Delivered NMIs the entry merged into a run under way, lost as nested with none running, and handler reruns. */
  readonly merged: number;
  readonly lost: number;
  readonly repeats: number;
  /**
   * The last accounting label the CPU executed, per NMI nesting depth (index = NMIs
   * active then): a nested NMI's own labels do not hide where the one it interrupted was.
   */
  readonly lastWatched: readonly (string | undefined)[];
}

export interface InjectionState {
  readonly fired: boolean;
  /** Times the CPU was at the injection's symbol (`at-symbol` arrivals). */
  readonly seen: number;
}

export interface RunState {
  readonly crash: string | undefined;
  readonly pageFaults: number;
  readonly breakpoints: number;
  readonly quietSince: number | undefined;
  readonly injections: readonly InjectionState[];
  readonly cpus: readonly CpuRunState[];
  /** NMI deliveries and irets; `bps`: #BP deliveries (a #BP frame overwritten by a nested #BP returns to the wrong stack). */
  readonly nmis: NmiTracker;
  readonly bps: NmiTracker;
}

/** What the reducer needs to know about the kernel, fixed for the run. */
export interface RunContext {
  readonly spec: ScenarioSpec;
  readonly wordSize: number;
  /** A code address as `symbol+off`. */
  readonly symbolize: (address: bigint) => string;
  /** The entry's merge labels, and its repeat labels with the label the CPU must come from. */
  readonly mergeLabels: readonly string[];
  readonly repeatLabels: readonly { readonly at: string; readonly after?: string }[];
}

export type RunEvent =
  /** A machine trace event (delivery, iret, fault, nmi, death); `instructions`: its CPU's count now. */
  | { readonly type: 'trace'; readonly step: number; readonly event: TraceEvent; readonly instructions: number }
  /** The runner raised an NMI at `cpu` (an injection, a storm NMI, or a test's probe). */
  | { readonly type: 'raised'; readonly step: number; readonly cpu: number; readonly due: Due | undefined }
  | { readonly type: 'symbol-seen'; readonly injection: number }
  /** The CPU is about to execute a landmark of the story. */
  | { readonly type: 'landmark'; readonly step: number; readonly cpu: number; readonly label: string; readonly handlerStart: boolean }
  /** The CPU executed an accounting label (an entry's merge or repeat label, or `nmi`). */
  | { readonly type: 'executed'; readonly cpu: number; readonly label: string }
  /** The CPU reached panic_halt (or halted, when landmarks are not watched); `console`: the oops line. */
  | { readonly type: 'panic'; readonly step: number; readonly cpu: number; readonly console: string; readonly explain: boolean }
  | { readonly type: 'quiet'; readonly step: number; readonly quiet: boolean }
  | { readonly type: 'budget-spent' };

/** An NMI the scenario's hardware raises now: an injection of the spec, or a storm tick. */
export type Due =
  | { readonly kind: 'injection'; readonly index: number; readonly cpu: number; readonly source: 'watchdog' | 'sampler' }
  | { readonly kind: 'storm'; readonly cpu: number; readonly source: 'sampler' }
  | { readonly kind: 'symbol-seen'; readonly index: number; readonly cpu: number };

/** What `dueInjections` and `isQuiet` read of the machine. */
export interface MachineView {
  instructions(cpu: number): number;
  rip(cpu: number): bigint;
  nmiPending(cpu: number): boolean;
}

export interface Transition {
  readonly state: RunState;
  readonly notes: readonly ScenarioEvent[];
}

const NO_NOTES: readonly ScenarioEvent[] = [];
const NOTHING_DUE: readonly Due[] = [];

export function initialRunState(ctx: RunContext, cpus: number, exitFrameOffsets: readonly number[], trampolines: readonly bigint[]): RunState {
  const cpu: CpuRunState = {
    lastRaise: -1,
    lastHandlerStart: -1,
    lastNmiDelivery: -1,
    firstNmiAt: undefined,
    exceptionIretAt: undefined,
    stormFired: 0,
    merged: 0,
    lost: 0,
    repeats: 0,
    lastWatched: [],
  };
  return {
    crash: undefined,
    pageFaults: 0,
    breakpoints: 0,
    quietSince: undefined,
    injections: ctx.spec.injections.map(() => ({ fired: false, seen: 0 })),
    cpus: new Array<CpuRunState>(cpus).fill(cpu),
    nmis: new NmiTracker(exitFrameOffsets, trampolines),
    bps: new NmiTracker([0], [], { checkRip: false }),
  };
}

function withCpu(state: RunState, cpu: number, patch: Partial<CpuRunState>): RunState {
  const cpus = state.cpus.slice();
  cpus[cpu] = { ...state.cpus[cpu]!, ...patch };
  return { ...state, cpus };
}

/**
 * The NMIs the scenario raises now, in the order the hardware raises them: the spec's
 * injections, then the storm. `symbol-seen` marks a pass over an `at-symbol` injection's
 * symbol that is not yet its occurrence. Returns a shared empty list when nothing is due.
 */
export function dueInjections(state: RunState, ctx: RunContext, view: MachineView, symbolTargets: readonly (bigint | undefined)[]): readonly Due[] {
  let due: Due[] | undefined;
  const { injections, storm } = ctx.spec;
  for (let i = 0; i < injections.length; i++) {
    const run = state.injections[i]!;
    if (run.fired) continue;
    const spec = injections[i]!;
    const a = spec.arrival;
    const ins = view.instructions(spec.cpu);
    const cpu = state.cpus[spec.cpu]!;
    let now = false;
    if (a.kind === 'at-step') now = ins >= a.step;
    else if (a.kind === 'after-first-nmi') now = cpu.firstNmiAt !== undefined && ins >= cpu.firstNmiAt + a.delay;
    else if (a.kind === 'after-exception-iret') now = cpu.exceptionIretAt !== undefined && ins >= cpu.exceptionIretAt + a.delay;
    else if (view.rip(spec.cpu) === symbolTargets[i]) {
      if (run.seen + 1 >= (a.occurrence ?? 1)) now = true;
      else (due ??= []).push({ kind: 'symbol-seen', index: i, cpu: spec.cpu });
    }
    if (now) (due ??= []).push({ kind: 'injection', index: i, cpu: spec.cpu, source: spec.source });
  }
  if (storm) {
    for (const cpu of storm.cpus) {
      const n = state.cpus[cpu]!.stormFired;
      if (n < storm.count && view.instructions(cpu) >= storm.start + n * storm.period) (due ??= []).push({ kind: 'storm', cpu, source: 'sampler' });
    }
  }
  return due ?? NOTHING_DUE;
}

/** Finished: everything fired, and no NMI (or #BP an NMI interrupted) active or pending anywhere. */
export function isQuiet(state: RunState, ctx: RunContext, view: MachineView): boolean {
  if (!state.injections.every((p) => p.fired)) return false;
  const storm = ctx.spec.storm;
  if (storm && !storm.cpus.every((c) => state.cpus[c]!.stormFired >= storm.count)) return false;
  for (let c = 0; c < state.cpus.length; c++) {
    // Later breakpoints of a probed loop do not count: only a #BP an NMI arrived during.
    const bpOpen = state.bps.active(c).some((b) => b.step <= state.cpus[c]!.lastNmiDelivery);
    if (state.nmis.active(c).length > 0 || bpOpen || view.nmiPending(c)) return false;
  }
  return true;
}

export function onEvent(state: RunState, event: RunEvent, ctx: RunContext): Transition {
  switch (event.type) {
    case 'trace':
      return onTrace(state, event.step, event.event, event.instructions, ctx);
    case 'raised': {
      let next = withCpu(state, event.cpu, { lastRaise: event.step });
      const due = event.due;
      if (due?.kind === 'injection') next = { ...next, injections: next.injections.map((p, i) => (i === due.index ? { ...p, fired: true } : p)) };
      if (due?.kind === 'storm') next = withCpu(next, event.cpu, { stormFired: next.cpus[event.cpu]!.stormFired + 1 });
      return { state: next, notes: NO_NOTES };
    }
    case 'symbol-seen':
      return { state: { ...state, injections: state.injections.map((p, i) => (i === event.injection ? { ...p, seen: p.seen + 1 } : p)) }, notes: NO_NOTES };
    case 'landmark': {
      const next = event.handlerStart ? withCpu(state, event.cpu, { lastHandlerStart: event.step }) : state;
      return { state: next, notes: event.handlerStart ? NO_NOTES : [{ step: event.step, cpu: event.cpu, kind: 'landmark', text: event.label }] };
    }
    case 'executed':
      return { state: onExecuted(state, event.cpu, event.label, ctx), notes: NO_NOTES };
    case 'panic': {
      const crash = state.crash ?? `panic on CPU ${event.cpu}: ${event.console}${event.explain ? panicCause(state, event.cpu) : ''}`;
      return { state: { ...state, crash }, notes: event.explain ? [{ step: event.step, cpu: event.cpu, kind: 'panic', text: crash }] : NO_NOTES };
    }
    case 'quiet': {
      const quietSince = event.quiet ? (state.quietSince ?? event.step) : undefined;
      return { state: quietSince === state.quietSince ? state : { ...state, quietSince }, notes: NO_NOTES };
    }
    case 'budget-spent':
      return { state: { ...state, crash: state.crash ?? `stuck: the run did not settle within ${ctx.spec.budget} instructions per CPU` }, notes: NO_NOTES };
  }
}

/** Merges, lost NMIs and reruns, counted where the entry decides them. */
function onExecuted(state: RunState, cpu: number, label: string, ctx: RunContext): RunState {
  const run = state.cpus[cpu]!;
  const depth = state.nmis.active(cpu).length;
  const lastWatched = run.lastWatched.slice();
  const before = lastWatched[depth];
  lastWatched[depth] = label;
  const patch: { -readonly [K in keyof CpuRunState]?: CpuRunState[K] } = { lastWatched };
  if (ctx.mergeLabels.includes(label)) {
    // Folded into the run under way, or nothing is running: the NMI only looked nested.
    if (depth >= 2) patch.merged = run.merged + 1;
    else patch.lost = run.lost + 1;
  }
  if (ctx.repeatLabels.some((r) => r.at === label && (r.after === undefined || r.after === before))) patch.repeats = run.repeats + 1;
  return withCpu(state, cpu, patch);
}

/** The latest overwrite on the CPU is the one that did it (under 3.3 a nested NMI's hardware frame always lands on the first's, by design). */
function panicCause(state: RunState, cpu: number): string {
  const o = state.nmis.overwrites.findLast((x) => x.cpu === cpu);
  if (o) return ` (after NMI #${o.by} restarted the NMI stack on top of NMI #${o.victim}, whose frames it overwrote)`;
  const b = state.bps.overwrites.findLast((x) => x.cpu === cpu);
  if (b) return " (after a breakpoint in the NMI handler restarted the debug IST stack on top of the interrupted #BP handler's frame)";
  return '';
}

function onTrace(state: RunState, step: number, e: TraceEvent, instructions: number, ctx: RunContext): Transition {
  const cpu = e.cpu;
  const sym = ctx.symbolize;
  switch (e.kind) {
    case 'nmi': {
      const kind = e.what === 'raised' ? 'nmi-raised' : e.what === 'latched' ? 'nmi-latched' : 'nmi-dropped';
      return { state, notes: [{ step, cpu, kind, text: `NMI ${e.what} (${e.source})` }] };
    }
    case 'delivery': {
      const f = frameContext(e.words, ctx.wordSize);
      if (!f) return { state, notes: NO_NOTES };
      const frame = { cpu, step, frame: f.frame, rip: f.rip, rsp: f.rsp, cs: f.cs };
      if (e.vector === VECTOR.NMI) {
        const nmis = state.nmis.clone();
        const before = nmis.overwrites.length;
        const rec = nmis.delivered(frame);
        const run = state.cpus[cpu]!;
        const next = withCpu({ ...state, nmis }, cpu, { lastNmiDelivery: step, firstNmiAt: run.firstNmiAt ?? instructions });
        const notes: ScenarioEvent[] = [
          { step, cpu, kind: 'delivery', text: `NMI #${rec.id} delivered: frame at 0x${f.frame.toString(16)}, interrupted ${sym(f.rip)} (rsp 0x${f.rsp.toString(16)}), nesting ${nmis.active(cpu).length}` },
        ];
        for (const o of nmis.overwrites.slice(before)) notes.push({ step, cpu, kind: 'overwrite', text: `NMI #${o.by}'s frame lands on NMI #${o.victim}'s at 0x${o.frame.toString(16)} (same IST top)` });
        return { state: next, notes };
      }
      if (e.vector === KERNEL_VECTOR.SYSCALL) return { state, notes: NO_NOTES };
      let next = e.vector === VECTOR.PF ? { ...state, pageFaults: state.pageFaults + 1 } : state;
      const notes: ScenarioEvent[] = [];
      if (e.vector === VECTOR.BP) {
        const bps = state.bps.clone();
        const before = bps.overwrites.length;
        bps.delivered(frame);
        next = { ...next, bps, breakpoints: state.breakpoints + 1 };
        for (const o of bps.overwrites.slice(before)) notes.push({ step, cpu, kind: 'overwrite', text: `#BP frame lands on an active #BP's frame at 0x${o.frame.toString(16)} (same debug IST top)` });
      }
      notes.push({ step, cpu, kind: 'delivery', text: `${e.name} delivered${state.nmis.active(cpu).length > 0 ? ' inside NMI context' : ''}: frame at 0x${f.frame.toString(16)}, from ${sym(f.rip)}` });
      return { state: next, notes };
    }
    case 'iret':
      return onIret(state, step, e, instructions, ctx);
    case 'fault':
      return { state, notes: e.vector === KERNEL_VECTOR.SYSCALL ? NO_NOTES : [{ step, cpu, kind: 'fault', text: `${e.name} at ${sym(e.rip)}: ${e.reason}` }] };
    case 'death': {
      const crash = state.crash ?? `CPU ${cpu} died: ${e.reason}`;
      return { state: { ...state, crash }, notes: [{ step, cpu, kind: 'death', text: e.reason }] };
    }
    default:
      return { state, notes: NO_NOTES };
  }
}

function onIret(state: RunState, step: number, e: Extract<TraceEvent, { kind: 'iret' }>, instructions: number, ctx: RunContext): Transition {
  const f = frameContext(e.words, ctx.wordSize);
  if (!f) return { state, notes: NO_NOTES };
  const cpu = e.cpu;
  const sym = ctx.symbolize;
  const frame = { cpu, step, frame: f.frame, rip: f.rip, rsp: f.rsp, cs: f.cs };
  const bps = state.bps.clone();
  const badBp = bps.iret(frame);
  if (badBp) {
    const crash =
      state.crash ??
      `corrupted return: the #BP handler's iret went to ${sym(badBp.landed.rip)} (rsp 0x${badBp.landed.rsp.toString(16)}) instead of back to ${sym(badBp.nmi.rip)}'s stack (rsp 0x${badBp.nmi.rsp.toString(16)}): its frame on the debug stack was overwritten by a breakpoint in the NMI handler`;
    return { state: { ...state, bps, crash }, notes: [{ step, cpu, kind: 'corrupted-return', text: crash }] };
  }
  const nmis = state.nmis.clone();
  const activeBefore = nmis.active(cpu).length;
  const bad = nmis.iret(frame);
  const activeAfter = nmis.active(cpu).length;
  const next: RunState = { ...state, bps, nmis };
  if (bad) {
    const by = bad.overwrittenBy.length > 0 ? `; its frame was overwritten by NMI #${bad.overwrittenBy.join(', #')}` : '';
    const crash =
      state.crash ??
      `corrupted return: NMI #${bad.nmi.id}'s iretq went to ${sym(bad.landed.rip)} (rsp 0x${bad.landed.rsp.toString(16)}) instead of ${sym(bad.nmi.rip)} (rsp 0x${bad.nmi.rsp.toString(16)})${by}`;
    return { state: { ...next, crash }, notes: [{ step, cpu, kind: 'corrupted-return', text: crash }] };
  }
  const what = activeAfter < activeBefore ? ' (NMI done)' : activeBefore > 0 ? ' (NMIs unblocked inside NMI context)' : '';
  const exceptionIret = activeAfter === activeBefore && activeBefore > 0;
  const run = state.cpus[cpu]!;
  return {
    state: exceptionIret && run.exceptionIretAt === undefined ? withCpu(next, cpu, { exceptionIretAt: instructions }) : next,
    notes: [{ step, cpu, kind: 'iret', text: `iret to ${sym(f.rip)}${what}` }],
  };
}
