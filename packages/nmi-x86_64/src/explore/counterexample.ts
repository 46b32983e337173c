import { checkSchedule, formatSchedule, isCounterexampleFile } from '@kernsim/cpu-core/explore';
import type { CounterexampleFileOf, Finding } from '@kernsim/cpu-core/explore';
import { NmiX86Error } from '../errors.js';
import { slotRoleOf } from '../stack-layout.js';
import type { DiagramSlot, StackDiagram } from '../stack-diagram.js';
import { buildNmiModel } from './model.js';
import type { NmiModelParams } from './model.js';
import { START_IDS } from './starts.js';
import type { StartId } from './starts.js';
import type { NmiViolation } from './explore-nmi.js';

/** A counterexample as `kernsim explore --save` writes it: enough to rebuild the model and replay. */
export type CounterexampleFile = CounterexampleFileOf<'kernsim-nmi-counterexample', NmiModelParams>;

export interface Replay {
  /** The violations the invariants report along the replayed schedule (the saved one among them when it reproduces). */
  readonly findings: readonly Finding[];
  readonly reproduced: boolean;
  /** The last instructions, deliveries and irets before the failing step. */
  readonly trace: string;
  /** CPU 0's NMI stack at the failing step. */
  readonly diagram: StackDiagram;
  /** The machine's state hash at the end: the same file gives the same hash, bit for bit. */
  readonly hash: string;
  readonly schedule: string;
}

export function counterexampleFile(params: Omit<NmiModelParams, 'start'>, v: NmiViolation): CounterexampleFile {
  return { format: 'kernsim-nmi-counterexample', version: 1, params: { ...params, start: v.start }, invariant: v.invariant, detail: v.detail, schedule: v.schedule };
}

/** Checks a parsed file's shape; throws `KERNSIM_NMI64_BAD_EXPLORE` on anything else. */
export function parseCounterexample(data: unknown): CounterexampleFile {
  const ok = isCounterexampleFile(data, 'kernsim-nmi-counterexample') && START_IDS.includes(data.params.start as StartId);
  if (!ok) throw new NmiX86Error('KERNSIM_NMI64_BAD_EXPLORE', 'not a kernsim NMI counterexample (expected format kernsim-nmi-counterexample, version 1, params, invariant, schedule)');
  return data as unknown as CounterexampleFile; // the start checked above; the model checks the other params
}

/** Rebuilds the model and replays the schedule with the invariants watching, tracing the end. */
export function replayCounterexample(file: CounterexampleFile, traceTail = 40): Replay {
  const { machine: m, options, kernel: k } = buildNmiModel(file.params);
  m.startTrace({ kinds: ['instruction', 'delivery', 'iret', 'fault', 'nmi'] });
  const findings = checkSchedule(m, options, file.schedule);
  m.stopTrace();
  const events = m.trace;
  const trace = m.formatTrace(events.slice(Math.max(0, events.length - traceTail)));
  const top = k.nmiStackTop(0);
  const { role, slots: n } = slotRoleOf(file.params);
  const slots: DiagramSlot[] = [];
  for (let i = 0; i < n; i++) {
    const address = top - BigInt(8 * (i + 1));
    const value = m.read(address, 8);
    slots.push({ address, role: role(8 * (i + 1)), value, symbol: k.symbols.symbolize(value), changed: false });
  }
  const diagram: StackDiagram = { title: `CPU 0's NMI stack at step ${file.schedule.length}`, caption: `${file.invariant}: ${file.detail}`, cpu: 0, top, slots };
  return { findings, reproduced: findings.some((f) => f.invariant === file.invariant), trace, diagram, hash: m.hash(), schedule: formatSchedule(file.schedule) };
}
