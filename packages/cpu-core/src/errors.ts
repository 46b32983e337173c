/** Stable codes of the machine's API errors; tests and callers match on these, not on wording. */
export type CpuErrorCode =
  | 'KERNSIM_CPU_CONFIG'
  | 'KERNSIM_CPU_UNMAPPED'
  | 'KERNSIM_CPU_OVERLAP'
  | 'KERNSIM_CPU_BAD_ARGUMENT'
  | 'KERNSIM_CPU_SCHEDULE'
  | 'KERNSIM_CPU_SNAPSHOT'
  | 'KERNSIM_CPU_CHECKPOINT';

/** API misuse of the machine (not a fault inside it: those are delivered to the simulated CPU). */
export class CpuError extends Error {
  override readonly name = 'CpuError';
  readonly code: CpuErrorCode;

  constructor(code: CpuErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
