import type { Snapshot, TraceEvent } from '@kernsim/cpu-core';
import { checkSchedule, replaySchedule } from '@kernsim/cpu-core/explore';
import type { Choice, EventSource, Finding, SearchOptions } from '@kernsim/cpu-core/explore';
import type { Kernel } from '@kernsim/kernel';
import { buildNmiModel, parseCounterexample, START_STATES } from '@kernsim/nmi-x86_64';
import type { CounterexampleFile } from '@kernsim/nmi-x86_64';
import { frameEventOf, liveFramesAt } from './frames.js';
import type { FrameEvent } from './frames.js';
import { HISTORY, remember, seekStart, SNAPSHOT_INTERVAL } from './shown-run.js';
import { stackKindOf } from './shown-run.js';
import type { ExecutedStep, LabEvent, LiveFrame, ShownRun, StackKind } from './shown-run.js';
import { markedEvents } from './summary.js';
import type { RunSummary } from './summary.js';

/** Longest schedule the lab replays (the explorer's default depth bound is 6000). */
export const MAX_SCHEDULE = 200_000;

const hex = (v: bigint): string => `0x${v.toString(16)}`;

function isChoice(c: unknown): c is Choice {
  if (typeof c !== 'object' || c === null) return false;
  const x = c as { kind?: unknown; cpu?: unknown; source?: unknown };
  return Number.isInteger(x.cpu) && (x.kind === 'step' || (x.kind === 'event' && typeof x.source === 'string'));
}

/** Reads the file as `kernsim explore --save` writes it; anything else throws with one line saying why. */
export function readCounterexample(name: string, text: string): CounterexampleFile {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new Error(`${name} is not JSON: expected a counterexample saved by kernsim explore --save`);
  }
  const file = parseCounterexample(data);
  const bad = file.schedule.findIndex((c: unknown) => !isChoice(c));
  if (bad >= 0) throw new Error(`${name}: schedule entry ${bad} is not a choice ({ kind: "step", cpu } or { kind: "event", source, cpu })`);
  if (file.schedule.length === 0 || file.schedule.length > MAX_SCHEDULE) throw new Error(`${name}: the schedule has ${file.schedule.length} choices; the lab replays 1 to ${MAX_SCHEDULE}`);
  return file;
}

/** One trace event as a line of the lab's trace (and a timeline mark), at the choice that caused it. */
function labEventOf(e: TraceEvent, step: number, sym: (a: bigint) => string): LabEvent | undefined {
  const at = { step, cpu: e.cpu };
  switch (e.kind) {
    case 'delivery': {
      const ip = e.words.find((w) => w.field === 'RIP' || w.field === 'EIP');
      return { ...at, kind: 'delivery', text: `${e.name} delivered${e.ist ? ` on IST${e.ist}` : ''}, interrupting ${ip ? sym(ip.value) : '?'} (CPL${e.fromCpl}); frame at ${ip ? hex(ip.address) : '?'}` };
    }
    case 'iret': {
      const ip = e.words.find((w) => w.field === 'RIP' || w.field === 'EIP');
      return { ...at, kind: 'iret', text: `iret to ${ip ? sym(ip.value) : '?'} (CPL${e.toCpl}), frame at ${ip ? hex(ip.address) : '?'}` };
    }
    case 'fault':
      return { ...at, kind: 'fault', text: `${e.name} at ${sym(e.rip)}: ${e.reason}` };
    case 'nmi':
      return { ...at, kind: e.what === 'raised' ? 'nmi-raised' : e.what === 'latched' ? 'nmi-latched' : 'nmi-dropped', text: `NMI ${e.what} (${e.source})` };
    case 'death':
      return { ...at, kind: 'death', text: `CPU ${e.cpu} died: ${e.reason}` };
    default:
      return undefined;
  }
}

/**
 * A counterexample the explorer saved, replayed choice by choice on the start state it was
 * found from (built in this thread by nmi-x86_64's `buildNmiModel`). Step n is the machine
 * after the schedule's first n choices; a choice is one instruction of a CPU or one event (the
 * search's sampler NMI). The engine ends a path at the choice that violates an invariant, so
 * in a file it saved the violation shows at the last step; the session finds the step by
 * replaying prefixes, so a schedule that goes on past it is marked where it happens.
 */
export class CounterexampleSession implements ShownRun {
  readonly name: string;
  readonly file: CounterexampleFile;
  readonly kernel: Kernel;
  readonly steps: number;
  readonly stackKind: StackKind;
  readonly events: readonly LabEvent[];
  /** What the invariants report along the schedule, as the explorer's own check replays it. */
  readonly findings: readonly Finding[];
  /** The first step at which the invariants report the file's violation, or undefined when they never do. */
  readonly violationStep: number | undefined;
  readonly #schedule: readonly Choice[];
  readonly #sources: readonly EventSource[];
  readonly #snapshots: Snapshot[] = [];
  readonly #frames: FrameEvent[] = [];
  #history: ExecutedStep[] = [];
  #at = 0;

  constructor(name: string, text: string) {
    this.name = name;
    this.file = readCounterexample(name, text);
    const model = buildNmiModel(this.file.params);
    const m = model.machine;
    this.kernel = model.kernel;
    this.#schedule = this.file.schedule;
    this.#sources = model.options.events ?? [];
    this.steps = this.#schedule.length;
    this.stackKind = stackKindOf(this.file.params);
    const start = m.snapshot();
    // The explorer's own check first: it also rejects a choice naming an unknown CPU or source.
    this.findings = checkSchedule(m, model.options, this.#schedule);
    m.restore(start);
    this.violationStep = this.findings.some((f) => f.invariant === this.file.invariant) ? this.#firstViolation(model.options, start) : undefined;
    this.events = this.#record();
  }

  /**
   * The shortest prefix whose replay reports the file's invariant (binary search: the engine
   * keeps a finding once made, so a longer prefix reports it too).
   */
  #firstViolation(options: SearchOptions, start: Snapshot): number {
    const m = this.kernel.machine;
    let lo = 1;
    let hi = this.steps;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const found = checkSchedule(m, options, this.#schedule.slice(0, mid)).some((f) => f.invariant === this.file.invariant);
      m.restore(start);
      if (found) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** Replays the schedule once: snapshots, the events of each choice, the frames pushed and popped. */
  #record(): LabEvent[] {
    const m = this.kernel.machine;
    const sym = (a: bigint): string => this.kernel.symbols.symbolize(a) ?? hex(a);
    const events: LabEvent[] = [];
    m.startTrace({ kinds: ['delivery', 'iret', 'fault', 'nmi', 'death'] });
    for (let s = 0; s < this.steps; s++) {
      if (s % SNAPSHOT_INTERVAL === 0) this.#snapshots.push(m.snapshot());
      const before = m.trace.length;
      this.#apply(s, this.steps - HISTORY);
      for (let i = before; i < m.trace.length; i++) {
        const f = frameEventOf(m.trace[i]!, s);
        if (f) this.#frames.push(f);
        const e = labEventOf(m.trace[i]!, s, sym);
        if (e) events.push(e);
      }
    }
    m.stopTrace();
    this.#at = this.steps;
    const step = (this.violationStep ?? this.steps) - 1;
    const found = this.findings.find((f) => f.invariant === this.file.invariant);
    const violation: LabEvent = { step, cpu: this.#schedule[step]!.cpu, kind: 'violation', text: found ? `violation: ${found.invariant}: ${found.detail}` : `the saved violation (${this.file.invariant}) did not occur on this replay` };
    // In step order, after the events of the violating choice itself.
    const at = events.findIndex((e) => e.step > step);
    events.splice(at < 0 ? events.length : at, 0, violation);
    return events;
  }

  /** Applies choice `s`, remembering it when it is an instruction at or after `historyFrom`. */
  #apply(s: number, historyFrom: number): void {
    const c = this.#schedule[s]!;
    if (c.kind === 'step' && s >= historyFrom) remember(this.#history, { step: s, cpu: c.cpu, rip: this.kernel.machine.cpus[c.cpu]!.rip });
    replaySchedule(this.kernel.machine, [c], this.#sources);
  }

  get at(): number {
    return this.#at;
  }

  get history(): readonly ExecutedStep[] {
    return this.#history;
  }

  get reproduced(): boolean {
    return this.violationStep !== undefined;
  }

  cpuAt(n: number): number | undefined {
    return this.#schedule[n]?.cpu;
  }

  nextAt(n: number): string | undefined {
    const c = this.#schedule[n];
    if (c === undefined) return undefined;
    return c.kind === 'step' ? `CPU ${c.cpu} runs next` : `next: the search raises its ${c.source} event at CPU ${c.cpu}`;
  }

  liveFrames(cpu: number): readonly LiveFrame[] {
    return liveFramesAt(this.#frames, cpu, this.#at);
  }

  seek(n: number): number {
    const { target, from, restored } = seekStart(this.kernel.machine, this.#snapshots, this.#at, n, this.steps);
    if (restored) this.#history = [];
    for (let s = from; s < target; s++) this.#apply(s, target - HISTORY);
    this.#at = target;
    return target;
  }

  summary(): RunSummary {
    const p = this.file.params;
    const start = START_STATES.find((s) => s.id === p.start);
    const entry = [p.arch ?? 'x86_64', p.entry === 'naive' ? (p.arch === 'i386' ? 'without the latch' : 'before 3.3 (naive)') : '3.3', p.variant, p.without !== undefined ? `without ${p.without}` : undefined].filter((x) => x !== undefined).join(' ');
    return {
      title: `Counterexample ${this.name}: ${this.file.invariant} from start "${p.start}"${start ? ` (${start.title})` : ''}`,
      entry,
      steps: this.steps,
      verdict: this.reproduced
        ? { word: 'VIOLATED', bad: true, detail: `at step ${this.violationStep ?? this.steps}: ${this.file.detail}` }
        : { word: 'not reproduced', bad: true, detail: `this build's replay does not report ${this.file.invariant}: the file may come from another version` },
      marks: markedEvents(this.events),
      counterexample: { file: this.name, violationStep: this.violationStep ?? this.steps },
    };
  }
}
