/** Stable codes for everything the kernel package refuses to do. */
export type KernelErrorCode =
  | 'KERNSIM_KERNEL_BAD_OPTIONS'
  | 'KERNSIM_KERNEL_UNKNOWN_SYMBOL'
  | 'KERNSIM_KERNEL_TABLE_FULL'
  | 'KERNSIM_KERNEL_BAD_PROBE';

export class KernelError extends Error {
  readonly code: KernelErrorCode;

  constructor(code: KernelErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KernelError';
    this.code = code;
  }
}
