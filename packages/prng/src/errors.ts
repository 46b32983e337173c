/** Stable codes for every error this package throws; tests check the code, not the wording. */
export type PrngErrorCode = 'KERNSIM_PRNG_BAD_SEED' | 'KERNSIM_PRNG_BAD_RANGE';

export class PrngError extends Error {
  override readonly name = 'PrngError';
  readonly code: PrngErrorCode;

  constructor(code: PrngErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
