import { VECTOR } from '@kernsim/cpu-core';
import type { FrameWord, TraceEvent } from '@kernsim/cpu-core';

/** The interrupted (delivery) or resumed (iret) context a frame describes. */
export interface FrameContext {
  /** Address of the RIP/EIP slot. */
  readonly frame: bigint;
  readonly rip: bigint;
  readonly cs: number;
  readonly rsp: bigint;
}

const find = (words: readonly FrameWord[], names: readonly string[]): FrameWord | undefined =>
  words.find((x) => names.includes(x.field.toUpperCase()));

/**
 * Reads RIP, CS and the stack pointer out of a pushed or popped frame. On i386 a
 * same-privilege frame has no ESP: the stack pointer is just past the frame.
 */
export function frameContext(words: readonly FrameWord[], wordSize: number): FrameContext | undefined {
  const ip = find(words, ['RIP', 'EIP']);
  const cs = find(words, ['CS']);
  if (!ip || !cs) return undefined;
  const sp = find(words, ['RSP', 'ESP']);
  const flags = find(words, ['RFLAGS', 'EFLAGS']);
  const past = (flags?.address ?? cs.address) + BigInt(wordSize);
  return { frame: ip.address, rip: ip.value, cs: Number(cs.value & 0xffffn), rsp: sp ? sp.value : past };
}

export function isNmiDelivery(e: TraceEvent): e is Extract<TraceEvent, { kind: 'delivery' }> {
  return e.kind === 'delivery' && e.vector === VECTOR.NMI;
}
