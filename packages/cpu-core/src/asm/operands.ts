import { Register } from 'iced-x86';

/** Register classes the assembler knows; `ip` is only usable as a rip-relative base. */
export type RegisterClass = 'gpr' | 'segment' | 'control' | 'ip';

export type OperandSize = 1 | 2 | 4 | 8;

/** A register operand. `size` is in bytes; `id` is iced-x86's register number. */
export interface Reg<S extends OperandSize = OperandSize, C extends RegisterClass = RegisterClass> {
  readonly kind: 'reg';
  readonly name: string;
  readonly size: S;
  readonly class: C;
  /** Encoding number 0-15 (r8..r15 are 8-15). */
  readonly number: number;
  readonly id: Register;
}

export type Gpr<S extends OperandSize = OperandSize> = Reg<S, 'gpr'>;
export type SegmentReg = Reg<2, 'segment'>;
export type ControlReg = Reg<8, 'control'>;

/** An immediate: a constant, or the address of a label plus an addend. */
export interface Imm {
  readonly kind: 'imm';
  readonly value: bigint;
  readonly label?: string;
}

export type Scale = 1 | 2 | 4 | 8;
/** Memory operand size in bytes; 0 means "not stated" (allowed only where a register fixes it). */
export type MemSize = 0 | OperandSize;

/**
 * A memory operand. The effective address is base + index*scale + disp, plus the
 * label's address when `label` is set. With `base` = rip the address is
 * rip-relative (64-bit only): label-relative when `label` is set, otherwise
 * `disp` bytes past the end of the instruction.
 */
export interface Mem {
  readonly kind: 'mem';
  readonly size: MemSize;
  readonly base?: Reg;
  readonly index?: Reg;
  readonly scale: Scale;
  readonly disp: bigint;
  readonly label?: string;
  readonly segment?: SegmentReg;
}

export type Operand = Reg | Mem | Imm;
/** Plain numbers and bigints are accepted wherever an immediate is. */
export type ImmLike = Imm | number | bigint;

/** Fields for the object form of a memory operand. */
export interface MemSpec {
  readonly base?: Reg;
  readonly index?: Reg;
  readonly scale?: Scale;
  readonly disp?: number | bigint;
  readonly label?: string;
  readonly segment?: SegmentReg;
}

export function imm(value: number | bigint | string, addend: number | bigint = 0): Imm {
  if (typeof value === 'string') return { kind: 'imm', value: BigInt(addend), label: value };
  return { kind: 'imm', value: BigInt(value) };
}

function makeReg<S extends OperandSize, C extends RegisterClass>(name: string, size: S, cls: C, num: number): Reg<S, C> {
  const id = (Register as unknown as Record<string, Register | undefined>)[name.toUpperCase()];
  if (id === undefined) throw new Error(`iced-x86 has no register ${name}`);
  return Object.freeze({ kind: 'reg', name, size, class: cls, number: num, id });
}

const gpr = <S extends OperandSize>(name: string, size: S, num: number): Gpr<S> => makeReg(name, size, 'gpr', num);

/** Every register the assembler accepts, by its AT&T name without `%`. */
export const reg = Object.freeze({
  rax: gpr('rax', 8, 0), rcx: gpr('rcx', 8, 1), rdx: gpr('rdx', 8, 2), rbx: gpr('rbx', 8, 3),
  rsp: gpr('rsp', 8, 4), rbp: gpr('rbp', 8, 5), rsi: gpr('rsi', 8, 6), rdi: gpr('rdi', 8, 7),
  r8: gpr('r8', 8, 8), r9: gpr('r9', 8, 9), r10: gpr('r10', 8, 10), r11: gpr('r11', 8, 11),
  r12: gpr('r12', 8, 12), r13: gpr('r13', 8, 13), r14: gpr('r14', 8, 14), r15: gpr('r15', 8, 15),
  eax: gpr('eax', 4, 0), ecx: gpr('ecx', 4, 1), edx: gpr('edx', 4, 2), ebx: gpr('ebx', 4, 3),
  esp: gpr('esp', 4, 4), ebp: gpr('ebp', 4, 5), esi: gpr('esi', 4, 6), edi: gpr('edi', 4, 7),
  r8d: gpr('r8d', 4, 8), r9d: gpr('r9d', 4, 9), r10d: gpr('r10d', 4, 10), r11d: gpr('r11d', 4, 11),
  r12d: gpr('r12d', 4, 12), r13d: gpr('r13d', 4, 13), r14d: gpr('r14d', 4, 14), r15d: gpr('r15d', 4, 15),
  ax: gpr('ax', 2, 0), cx: gpr('cx', 2, 1), dx: gpr('dx', 2, 2), bx: gpr('bx', 2, 3),
  sp: gpr('sp', 2, 4), bp: gpr('bp', 2, 5), si: gpr('si', 2, 6), di: gpr('di', 2, 7),
  r8w: gpr('r8w', 2, 8), r9w: gpr('r9w', 2, 9), r10w: gpr('r10w', 2, 10), r11w: gpr('r11w', 2, 11),
  r12w: gpr('r12w', 2, 12), r13w: gpr('r13w', 2, 13), r14w: gpr('r14w', 2, 14), r15w: gpr('r15w', 2, 15),
  al: gpr('al', 1, 0), cl: gpr('cl', 1, 1), dl: gpr('dl', 1, 2), bl: gpr('bl', 1, 3),
  ah: gpr('ah', 1, 4), ch: gpr('ch', 1, 5), dh: gpr('dh', 1, 6), bh: gpr('bh', 1, 7),
  spl: gpr('spl', 1, 4), bpl: gpr('bpl', 1, 5), sil: gpr('sil', 1, 6), dil: gpr('dil', 1, 7),
  r8b: makeRegAlias('r8l', 'r8b', 8), r9b: makeRegAlias('r9l', 'r9b', 9), r10b: makeRegAlias('r10l', 'r10b', 10),
  r11b: makeRegAlias('r11l', 'r11b', 11), r12b: makeRegAlias('r12l', 'r12b', 12), r13b: makeRegAlias('r13l', 'r13b', 13),
  r14b: makeRegAlias('r14l', 'r14b', 14), r15b: makeRegAlias('r15l', 'r15b', 15),
  es: makeReg('es', 2, 'segment', 0), cs: makeReg('cs', 2, 'segment', 1), ss: makeReg('ss', 2, 'segment', 2),
  ds: makeReg('ds', 2, 'segment', 3), fs: makeReg('fs', 2, 'segment', 4), gs: makeReg('gs', 2, 'segment', 5),
  cr0: makeReg('cr0', 8, 'control', 0), cr2: makeReg('cr2', 8, 'control', 2), cr3: makeReg('cr3', 8, 'control', 3),
  cr4: makeReg('cr4', 8, 'control', 4),
  rip: makeReg('rip', 8, 'ip', 0),
});

function makeRegAlias(icedName: string, name: string, num: number): Gpr<1> {
  const r = gpr(icedName, 1, num);
  return Object.freeze({ ...r, name });
}

export type RegName = keyof typeof reg;

/** True for the 8-bit registers that exist only with a REX prefix (spl..dil, r8b..r15b). */
export function needsRex(r: Reg): boolean {
  return r.class === 'gpr' && (r.number >= 8 || (r.size === 1 && r.number >= 4 && !r.name.endsWith('h')));
}

type MemArgs =
  | readonly []
  | readonly [spec: MemSpec]
  | readonly [address: number | bigint | string]
  | readonly [base: Reg, disp?: number | bigint | string, addend?: number | bigint]
  | readonly [base: Reg | undefined, index: Reg, scale?: Scale, disp?: number | bigint | string];

function parseMem(size: MemSize, segment: SegmentReg | undefined, args: MemArgs): Mem {
  const [a0, a1, a2, a3] = args as readonly unknown[];
  let spec: MemSpec;
  if (a0 === undefined && a1 === undefined) spec = {};
  else if (typeof a0 === 'number' || typeof a0 === 'bigint') spec = { disp: a0 };
  else if (typeof a0 === 'string') spec = { label: a0 };
  else if (a0 !== undefined && !isReg(a0)) spec = a0 as MemSpec;
  else {
    const base = a0 === undefined ? {} : { base: a0 };
    if (isReg(a1)) {
      spec = { ...base, index: a1, scale: (a2 ?? 1) as Scale, ...dispOrLabel(a3 as number | bigint | string | undefined) };
    } else {
      spec = { ...base, ...dispOrLabel(a1 as number | bigint | string | undefined) };
      if (typeof a1 === 'string' && a2 !== undefined) spec = { ...spec, disp: a2 as number | bigint };
    }
  }
  const seg = segment ?? spec.segment;
  return Object.freeze({
    kind: 'mem',
    size,
    scale: spec.scale ?? 1,
    disp: BigInt(spec.disp ?? 0),
    ...(spec.base ? { base: spec.base } : {}),
    ...(spec.index ? { index: spec.index } : {}),
    ...(spec.label !== undefined ? { label: spec.label } : {}),
    ...(seg ? { segment: seg } : {}),
  });
}

function dispOrLabel(d: number | bigint | string | undefined): MemSpec {
  if (d === undefined) return {};
  return typeof d === 'string' ? { label: d } : { disp: d };
}

/**
 * Builds memory operands of one size. Call forms:
 * `(base)`, `(base, disp)`, `(base, 'label', addend?)`, `(base, index, scale?, disp?)`,
 * `(undefined, index, scale, disp)`, `(address)`, `('label')`, `({ base, index, ... })`.
 * `.gs(...)` / `.fs(...)` take the same arguments and add the segment override.
 */
export interface MemBuilder {
  (...args: MemArgs): Mem;
  gs(...args: MemArgs): Mem;
  fs(...args: MemArgs): Mem;
}

function memBuilder(size: MemSize): MemBuilder {
  const f = (...args: MemArgs): Mem => parseMem(size, undefined, args);
  return Object.assign(f, {
    gs: (...args: MemArgs): Mem => parseMem(size, reg.gs, args),
    fs: (...args: MemArgs): Mem => parseMem(size, reg.fs, args),
  });
}

export const byte: MemBuilder = memBuilder(1);
export const word: MemBuilder = memBuilder(2);
export const dword: MemBuilder = memBuilder(4);
export const qword: MemBuilder = memBuilder(8);
/** A memory operand of unstated size (for lea, or where a register gives the size). */
export const mem: MemBuilder = memBuilder(0);

export function isReg(x: unknown): x is Reg {
  return typeof x === 'object' && x !== null && (x as { kind?: unknown }).kind === 'reg';
}
export function isMem(x: unknown): x is Mem {
  return typeof x === 'object' && x !== null && (x as { kind?: unknown }).kind === 'mem';
}

export function toImm(x: ImmLike): Imm {
  return typeof x === 'object' ? x : { kind: 'imm', value: BigInt(x) };
}

export function describe(op: Operand | number | bigint | string): string {
  if (typeof op === 'string') return op;
  if (typeof op !== 'object') return `$${op.toString()}`;
  switch (op.kind) {
    case 'reg':
      return `%${op.name}`;
    case 'imm':
      return op.label !== undefined ? `$${op.label}${op.value !== 0n ? `+${op.value.toString()}` : ''}` : `$${op.value.toString()}`;
    case 'mem': {
      const sz = op.size === 0 ? '' : `${['', 'byte', 'word', '', 'dword', '', '', '', 'qword'][op.size] ?? ''} `;
      const seg = op.segment ? `%${op.segment.name}:` : '';
      const parts = [op.base ? `%${op.base.name}` : '', op.index ? `%${op.index.name}` : '', op.index ? String(op.scale) : ''];
      const inner = op.base || op.index ? `(${parts.filter((p) => p !== '').join(',')})` : '';
      const disp = `${op.label ?? ''}${op.disp !== 0n || (!op.label && inner === '') ? (op.label ? '+' : '') + op.disp.toString() : ''}`;
      return `${sz}${seg}${disp}${inner}`;
    }
  }
}
