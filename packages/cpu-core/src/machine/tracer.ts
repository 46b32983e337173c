import type { CpuState } from './cpu.js';
import type { Frame } from './frame.js';

/** Hooks the machine calls when tracing is on; the machine holds `null` otherwise, so tracing off costs one test. */
export interface Tracer {
  instruction(c: CpuState, lo: number, hi: number, bytes: Uint8Array): void;
  delivery(c: CpuState, info: DeliveryInfo): void;
  iret(c: CpuState, info: IretInfo): void;
  watchedWrite(c: CpuState, f: Frame, off: number, size: number, vlo: number, vhi: number): void;
  console(c: CpuState, text: string): void;
  fault(c: CpuState, vector: number, code: number, reason: string): void;
  nmi(c: CpuState, what: 'raised' | 'latched' | 'dropped', source: string): void;
  death(c: CpuState, reason: string): void;
}

/** One word of a pushed or popped frame. */
export interface FrameWord {
  readonly field: string;
  readonly address: bigint;
  readonly value: bigint;
}

export interface DeliveryInfo {
  readonly vector: number;
  readonly kind: 'exception' | 'nmi' | 'interrupt' | 'software';
  readonly errorCode: number | undefined;
  readonly ist: number;
  readonly fromCpl: number;
  readonly handler: bigint;
  readonly words: readonly FrameWord[];
}

export interface IretInfo {
  readonly words: readonly FrameWord[];
  readonly toCpl: number;
}
