import type { CpuState } from './cpu.js';

/** A decoded instruction compiled to a closure; `exec` runs it and advances (or redirects) RIP. */
export interface Op {
  readonly exec: (c: CpuState) => void;
  readonly len: number;
}

/** An instruction as the decode cache holds it: the closure and its cost, looked up once at decode. */
export interface DecodedOp extends Op {
  readonly cost: number;
  /** Execution falls through to the next instruction (iced's flow control `Next`): a block may continue past it. */
  readonly next: boolean;
}

/** Thrown (always this one object) when an instruction faults; the vector and error code are on the CPU. */
export const FAULT = { fault: true } as const;
