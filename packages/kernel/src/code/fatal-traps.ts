/** The exceptions this kernel treats as fatal (die() with the message), in the order both architectures emit their entries. */
export const FATAL_TRAPS: readonly { readonly label: string; readonly message: string; readonly hasErrorCode: boolean }[] = [
  { label: 'general_protection', message: 'str_gp', hasErrorCode: true },
  { label: 'invalid_op', message: 'str_ud', hasErrorCode: false },
  { label: 'double_fault', message: 'str_df', hasErrorCode: true },
  { label: 'debug', message: 'str_db', hasErrorCode: false },
];
