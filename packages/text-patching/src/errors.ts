/** Stable codes for everything text-patching can reject; tests and callers match on `code`. */
export type TextPatchingErrorCode =
  | 'KERNSIM_PATCH_BAD_OPTIONS'
  | 'KERNSIM_PATCH_BAD_SITE'
  | 'KERNSIM_PATCH_UNEXPECTED_BYTES'
  | 'KERNSIM_PATCH_OVERLAP'
  | 'KERNSIM_PATCH_DID_NOT_FINISH';

export class TextPatchingError extends Error {
  override readonly name = 'TextPatchingError';
  readonly code: TextPatchingErrorCode;

  constructor(code: TextPatchingErrorCode, message: string, options?: { readonly cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
