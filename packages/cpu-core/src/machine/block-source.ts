import { ADD, AND, CMP, OR, PARITY, SUB, TEST, XOR } from './alu.js';
import { cond } from './alu.js';
import { rd, wr } from './bus.js';
import type { CpuState } from './cpu.js';

/*
 * Source templates per instruction family, for the block compiler (`block.ts`): the commonest
 * shapes (ALU ops and moves between 32/64-bit registers and immediates, register loads and
 * stores, conditional jumps) as JavaScript source with their registers, immediates and next
 * RIP as literals, so a compiled block runs them inline instead of calling their closures.
 * Each template is a transcription of the closure it stands for (`fast.ts` over `alu.ts`):
 * the same reads, flag writes and stores in the same order. The closure stays the reference —
 * the interpreter and the loop tier run it — and the block differential test compares both.
 */

type Exec = (c: CpuState) => void;

/** An instruction's inline source: `code` reads the CPU as `c` and its registers as `L`/`H`; `refs` are closures it calls as `$0`, `$1`… */
export interface OpSource {
  readonly code: string;
  readonly refs: readonly unknown[];
  /** Touches only registers, flags and RIP (no memory, no fault): after it only the budget and the clock need checking. */
  readonly pure: boolean;
}

const SOURCES = new WeakMap<Exec, OpSource>();

/** The helpers templates call, as the generated factory's first parameters. */
export const HELPERS = { PARITY, wr, rd, cond } as const;

export function sourceOf(exec: Exec): OpSource | undefined {
  return SOURCES.get(exec);
}

function withSource(exec: Exec, code: string, pure: boolean, refs: readonly unknown[] = []): Exec {
  SOURCES.set(exec, { code, refs, pure });
  return exec;
}

const ip = (nl: number, nh: number): string => `c.ipLo = ${nl}; c.ipHi = ${nh};`;

const ALU32: Partial<Record<number, string>> = {
  [ADD]: 'let r = a + b; c.cf = r > 0xffffffff ? 1 : 0; r = (r & 0xffffffff) >>> 0; c.of = ((a ^ r) & (b ^ r) & 0x80000000) !== 0 ? 1 : 0; c.af = ((a ^ b ^ r) >>> 4) & 1;',
  [SUB]: 'let r = a - b; c.cf = r < 0 ? 1 : 0; r = (r & 0xffffffff) >>> 0; c.of = ((a ^ b) & (a ^ r) & 0x80000000) !== 0 ? 1 : 0; c.af = ((a ^ b ^ r) >>> 4) & 1;',
  [AND]: 'const r = (a & b) >>> 0; c.cf = 0; c.of = 0; c.af = 0;',
  [OR]: 'const r = (a | b) >>> 0; c.cf = 0; c.of = 0; c.af = 0;',
  [XOR]: 'const r = (a ^ b) >>> 0; c.cf = 0; c.of = 0; c.af = 0;',
};
ALU32[CMP] = ALU32[SUB];
ALU32[TEST] = ALU32[AND];

const ALU64: Partial<Record<number, string>> = {
  [ADD]: 'let lo = a + b; const k = lo > 0xffffffff ? 1 : 0; lo >>>= 0; let hi = ah + bh + k; c.cf = hi > 0xffffffff ? 1 : 0; hi >>>= 0; c.of = ((ah ^ hi) & (bh ^ hi)) >>> 31; c.af = ((a ^ b ^ lo) >>> 4) & 1;',
  [SUB]: 'let lo = a - b; const k = lo < 0 ? 1 : 0; lo >>>= 0; let hi = ah - bh - k; c.cf = hi < 0 ? 1 : 0; hi >>>= 0; c.of = ((ah ^ bh) & (ah ^ hi)) >>> 31; c.af = ((a ^ b ^ lo) >>> 4) & 1;',
  [AND]: 'const lo = (a & b) >>> 0; const hi = (ah & bh) >>> 0; c.cf = 0; c.of = 0; c.af = 0;',
  [OR]: 'const lo = (a | b) >>> 0; const hi = (ah | bh) >>> 0; c.cf = 0; c.of = 0; c.af = 0;',
  [XOR]: 'const lo = (a ^ b) >>> 0; const hi = (ah ^ bh) >>> 0; c.cf = 0; c.of = 0; c.af = 0;',
};
ALU64[CMP] = ALU64[SUB];
ALU64[TEST] = ALU64[AND];

/**
 * `fastAlu`'s closure with its template: `src` is a register index or an immediate's halves.
 * ADC and SBB keep their closure (no template).
 */
export function aluSource(exec: Exec, op: number, size: 4 | 8, di: number, src: { reg: number } | { il: number; ih: number }, writes: boolean, nl: number, nh: number): Exec {
  const body = (size === 8 ? ALU64 : ALU32)[op];
  if (body === undefined) return exec;
  const b = 'reg' in src ? `L[${src.reg}]` : `${src.il}`;
  if (size === 4) {
    const flags = 'c.zf = r === 0 ? 1 : 0; c.sf = (r & 0x80000000) !== 0 ? 1 : 0; c.pf = PARITY[r & 0xff]; c.rh = 0;';
    const store = writes ? `L[${di}] = r; H[${di}] = 0;` : '';
    return withSource(exec, `{ const a = L[${di}]; const b = ${b}; ${body} ${flags} ${store} } ${ip(nl, nh)}`, true);
  }
  const bh = 'reg' in src ? `H[${src.reg}]` : `${src.ih}`;
  const flags = 'c.zf = (lo | hi) === 0 ? 1 : 0; c.sf = hi >>> 31; c.pf = PARITY[lo & 0xff]; c.rh = hi;';
  const store = writes ? `L[${di}] = lo; H[${di}] = hi;` : '';
  return withSource(exec, `{ const a = L[${di}]; const ah = H[${di}]; const b = ${b}; const bh = ${bh}; ${body} ${flags} ${store} } ${ip(nl, nh)}`, true);
}

/** `fastMov`'s closure (register or immediate into a 32/64-bit register) with its template. */
export function movSource(exec: Exec, di: number, src: { reg: number; wide: boolean } | { il: number; ih: number }, nl: number, nh: number): Exec {
  const code = 'reg' in src ? `L[${di}] = L[${src.reg}]; H[${di}] = ${src.wide ? `H[${src.reg}]` : '0'};` : `L[${di}] = ${src.il}; H[${di}] = ${src.ih};`;
  return withSource(exec, `${code} ${ip(nl, nh)}`, true);
}

/** An effective-address closure (`operands.ts`: absolute, or one base register plus a displacement) with its template. */
export function eaSource(exec: Exec, code: string): Exec {
  return withSource(exec, code, true);
}

/** `fastMovMem`'s closure (a 32/64-bit register stored or loaded through `ea`) with its template; the address inline where `ea` has one. */
export function movMemSource(exec: Exec, ea: Exec, store: boolean, size: number, ri: number, nl: number, nh: number): Exec {
  const wide = size === 8;
  const eaCode = sourceOf(ea)?.code;
  const address = eaCode ?? '$0(c);';
  const code = store
    ? `${address} wr(c, c.eaLo, c.eaHi, ${size}, L[${ri}], ${wide ? `H[${ri}]` : '0'});`
    : `{ ${address} const v = rd(c, c.eaLo, c.eaHi, ${size}); H[${ri}] = ${wide ? 'c.vh' : '0'}; L[${ri}] = v; }`;
  return withSource(exec, `${code} ${ip(nl, nh)}`, false, eaCode === undefined ? [ea] : []);
}

const CC_TEST: Partial<Record<number, string>> = { 4: 'c.zf !== 0', 5: 'c.zf === 0', 2: 'c.cf !== 0', 3: 'c.cf === 0' };

/** `fastJcc`'s closure with its template. */
export function jccSource(exec: Exec, cc: number, tl: number, th: number, nl: number, nh: number): Exec {
  const test = CC_TEST[cc] ?? `cond(c, ${cc})`;
  return withSource(exec, `if (${test}) { ${ip(tl, th)} } else { ${ip(nl, nh)} }`, true);
}
