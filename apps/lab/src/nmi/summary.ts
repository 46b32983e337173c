import type { ScenarioEvent } from '@kernsim/kernel';
import { entryLabel } from './config.js';
import type { NmiSession } from './session.js';

/** The whole run in a few fields: the scrubber's marks and the outcome line. */
export interface RunSummary {
  readonly title: string;
  readonly entry: string;
  readonly steps: number;
  readonly crashed: boolean;
  readonly crashReason: string | undefined;
  readonly nmis: { readonly raised: number; readonly handled: number; readonly merged: number };
  /** Events worth a mark and a "next event" stop: NMI deliveries, exceptions, irets, overwrites, crashes. */
  readonly marks: readonly ScenarioEvent[];
}

const MARKED = new Set<ScenarioEvent['kind']>(['delivery', 'iret', 'fault', 'overwrite', 'corrupted-return', 'panic', 'death', 'nmi-raised']);

export function summarize(session: NmiSession): RunSummary {
  const r = session.result;
  return {
    title: r.title,
    entry: entryLabel(session.config),
    steps: session.steps,
    crashed: r.crashed,
    crashReason: r.crashReason,
    nmis: { raised: r.nmis.raised, handled: r.nmis.handled, merged: r.nmis.mergedByHardware + r.nmis.mergedBySoftware },
    // The user tasks' syscalls iret all the time: marks for them would hide the story.
    marks: r.events.filter((e) => MARKED.has(e.kind) && !(e.kind === 'iret' && e.text.includes('user_syscall_loop')) && !/int 0x80|syscall/.test(e.text)),
  };
}
