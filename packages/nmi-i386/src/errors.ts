export type NmiI386ErrorCode = 'KERNSIM_NMI32_BAD_SCENARIO';

export class NmiI386Error extends Error {
  readonly code: NmiI386ErrorCode;

  constructor(code: NmiI386ErrorCode, message: string) {
    super(message);
    this.name = 'NmiI386Error';
    this.code = code;
  }
}
