import { entryLabel } from './config.js';
import type { NmiSession } from './session.js';
import type { LabEvent } from './shown-run.js';

/** The whole run in a few fields: the scrubber's marks and the outcome line. */
export interface RunSummary {
  readonly title: string;
  readonly entry: string;
  readonly steps: number;
  /** The outcome in a word (CRASHED / survived / VIOLATED …), whether it is bad, and a line more. */
  readonly verdict: { readonly word: string; readonly bad: boolean; readonly detail: string };
  /** Events worth a mark and a "next event" stop: NMI deliveries, exceptions, irets, overwrites, crashes, violations. */
  readonly marks: readonly LabEvent[];
  /** A loaded counterexample: its file name and the step at which its violation shows. */
  readonly counterexample: { readonly file: string; readonly violationStep: number } | undefined;
}

const MARKED = new Set<LabEvent['kind']>(['delivery', 'iret', 'fault', 'overwrite', 'corrupted-return', 'panic', 'death', 'nmi-raised', 'violation']);

/** The events a timeline marks; the user tasks' syscalls iret all the time, and marks for them would hide the story. */
export function markedEvents(events: readonly LabEvent[]): LabEvent[] {
  return events.filter((e) => MARKED.has(e.kind) && !(e.kind === 'iret' && e.text.includes('user_syscall_loop')) && !/int 0x80|syscall/.test(e.text));
}

export function summarize(session: NmiSession): RunSummary {
  const r = session.result;
  const merged = r.nmis.mergedByHardware + r.nmis.mergedBySoftware;
  return {
    title: r.title,
    entry: entryLabel(session.config),
    steps: session.steps,
    verdict: r.crashed
      ? { word: 'CRASHED', bad: true, detail: r.crashReason ?? '' }
      : { word: 'survived', bad: false, detail: `${r.nmis.handled} of ${r.nmis.raised} NMIs handled, ${merged} merged` },
    marks: markedEvents(r.events),
    counterexample: undefined,
  };
}
