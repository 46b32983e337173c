export type NmiX86ErrorCode = 'KERNSIM_NMI64_BAD_ENTRY' | 'KERNSIM_NMI64_BAD_SCENARIO' | 'KERNSIM_NMI64_BAD_EXPLORE';

export class NmiX86Error extends Error {
  readonly code: NmiX86ErrorCode;

  constructor(code: NmiX86ErrorCode, message: string) {
    super(message);
    this.name = 'NmiX86Error';
    this.code = code;
  }
}
