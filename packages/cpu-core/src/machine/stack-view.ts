import { CpuError } from '../errors.js';
import { rd } from './bus.js';
import type { CpuState } from './cpu.js';
import { FAULT } from './op.js';
import type { TraceEvent } from './trace.js';
import { address } from './validate.js';

/** The most words one `stackView` call labels (512 KiB of 64-bit stack): wider ranges are paged by the caller. */
const STACK_VIEW_WORDS = 65536;

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

/** Reads the words of [from, to) as the CPU sees them (-1n where the page is not readable). */
export function readStack(c: CpuState, from: bigint, to: bigint, w: 4 | 8): bigint[] {
  const words = (address(to, 'stackView to') - address(from, 'stackView from')) / BigInt(w);
  if (words > BigInt(STACK_VIEW_WORDS)) throw new CpuError('KERNSIM_CPU_BAD_ARGUMENT', `stackView covers ${words} words (0x${from.toString(16)}-0x${to.toString(16)}); at most ${STACK_VIEW_WORDS} per call: page through a larger range in several calls`);
  const values: bigint[] = [];
  for (let a = from; a < to; a += BigInt(w)) {
    let v: bigint | undefined;
    try {
      const lo = rd(c, Number(a & 0xffffffffn), Number((a >> 32n) & 0xffffffffn), w);
      v = w === 8 ? (BigInt(c.vh >>> 0) << 32n) | BigInt(lo >>> 0) : BigInt(lo >>> 0);
    } catch (e) {
      if (e !== FAULT) throw e;
      v = undefined;
    }
    values.push(v ?? -1n);
  }
  return values;
}
