import type { TraceEvent } from './trace.js';

/** One stack word with what put it there: the most recent delivery whose frame covers it. */
export interface StackWord {
  readonly address: bigint;
  /** Current value (-1n when the page is not readable). */
  readonly value: bigint;
  /** e.g. "NMI #2 (trace seq 57)" or undefined if no recorded frame covers the word. */
  readonly frame: string | undefined;
  readonly field: string | undefined;
  /** True when the word no longer holds the value the delivery pushed (overwritten since). */
  readonly overwritten: boolean;
}

export function buildStackView(events: readonly TraceEvent[], cpu: number, from: bigint, width: number, values: readonly bigint[]): StackWord[] {
  const label = new Map<bigint, { frame: string; field: string; pushed: bigint }>();
  const counts = new Map<string, number>();
  for (const e of events) {
    if (e.kind !== 'delivery' || e.cpu !== cpu) continue;
    const n = (counts.get(e.name) ?? 0) + 1;
    counts.set(e.name, n);
    for (const w of e.words) label.set(w.address, { frame: `${e.name} #${n} (trace seq ${e.seq})`, field: w.field, pushed: w.value });
  }
  return values.map((value, i) => {
    const address = from + BigInt(i * width);
    const l = label.get(address);
    return { address, value, frame: l?.frame, field: l?.field, overwritten: l !== undefined && l.pushed !== value };
  });
}
