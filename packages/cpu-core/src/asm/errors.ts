/**
 * Stable codes for everything the assembler and disassembler can reject.
 * Kept apart from the machine's own errors so the two halves of the package
 * can evolve independently; tests match on `code`, never on wording.
 */
export type AsmErrorCode =
  | 'KERNSIM_ASM_UNDEFINED_LABEL'
  | 'KERNSIM_ASM_DUPLICATE_LABEL'
  | 'KERNSIM_ASM_BAD_OPERANDS'
  | 'KERNSIM_ASM_RANGE'
  | 'KERNSIM_ASM_BAD_OPTIONS';

export class AsmError extends Error {
  override readonly name = 'AsmError';
  readonly code: AsmErrorCode;

  constructor(code: AsmErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
