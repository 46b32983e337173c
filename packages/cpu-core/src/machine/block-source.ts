import { ADD, AND, CMP, OR, PARITY, SUB, TEST, XOR } from './alu.js';
import { rd, wrFast } from './bus.js';
import type { CpuState } from './cpu.js';

/*
 * Source templates per instruction family, for the block compiler (`block-compile.ts`): the
 * commonest shapes (ALU ops and moves between 32/64-bit registers and immediates, register
 * loads and stores, push/pop of a register, conditional jumps) as JavaScript source with their
 * registers, immediates and next RIP as literals, so a compiled block runs them inline instead
 * of calling their closures. Each template is a transcription of the closure it stands for
 * (`fast.ts` over `alu.ts` and `stack.ts`):
 * the same reads, flag writes and stores in the same order. The closure stays the reference —
 * the interpreter and the loop tier run it — and the block differential test compares both.
 */

type Exec = (c: CpuState) => void;

/**
 * How a template meets the CPU object: `pure` touches only registers, flags and RIP (no memory,
 * no fault; after it only the budget and the clock need checking); `memory` calls `rd`/`wrFast`,
 * which read and charge `c.cycles` and may fault. Anything else is a call of its closure.
 */
export type SourceKind = 'pure' | 'memory';

/**
 * An instruction's inline source. `code` names the CPU as `c`, its registers as `L[n]`/`H[n]`,
 * CF, AF, OF and the result's high half as `cf af of rh`, RIP as `ipl`/`iph` — all of which the
 * block compiler keeps in locals. ZF, SF and PF are kept as the values they are computed from
 * (`zr`: ZF is `zr === 0`; `sr`: SF is its bit 31; `pr`: PF is the parity of its low byte), so
 * an instruction whose flags the next one overwrites costs three moves, not three computations.
 */
export interface OpSource {
  readonly code: string;
  readonly kind: SourceKind;
  /** A conditional jump's target and next RIP (lo, hi): the compiler loops a block whose last jump targets one of its own instructions. */
  readonly jump?: { readonly target: readonly [number, number]; readonly next: readonly [number, number] };
}

const SOURCES = new WeakMap<Exec, OpSource>();

/** The helpers templates call, as the generated factory's first parameters. */
export const HELPERS = { PARITY, wrFast, rd } as const;

export function sourceOf(exec: Exec): OpSource | undefined {
  return SOURCES.get(exec);
}

function withSource(exec: Exec, src: OpSource): Exec {
  SOURCES.set(exec, src);
  return exec;
}

const ip = (nl: number, nh: number): string => `ipl = ${nl}; iph = ${nh};`;

const ALU32: Partial<Record<number, string>> = {
  [ADD]: 'let r = a + b; cf = r > 0xffffffff ? 1 : 0; r = (r & 0xffffffff) >>> 0; of = ((a ^ r) & (b ^ r) & 0x80000000) !== 0 ? 1 : 0; af = ((a ^ b ^ r) >>> 4) & 1;',
  [SUB]: 'let r = a - b; cf = r < 0 ? 1 : 0; r = (r & 0xffffffff) >>> 0; of = ((a ^ b) & (a ^ r) & 0x80000000) !== 0 ? 1 : 0; af = ((a ^ b ^ r) >>> 4) & 1;',
  [AND]: 'const r = (a & b) >>> 0; cf = 0; of = 0; af = 0;',
  [OR]: 'const r = (a | b) >>> 0; cf = 0; of = 0; af = 0;',
  [XOR]: 'const r = (a ^ b) >>> 0; cf = 0; of = 0; af = 0;',
};
ALU32[CMP] = ALU32[SUB];
ALU32[TEST] = ALU32[AND];

const ALU64: Partial<Record<number, string>> = {
  [ADD]: 'let lo = a + b; const k = lo > 0xffffffff ? 1 : 0; lo >>>= 0; let hi = ah + bh + k; cf = hi > 0xffffffff ? 1 : 0; hi >>>= 0; of = ((ah ^ hi) & (bh ^ hi)) >>> 31; af = ((a ^ b ^ lo) >>> 4) & 1;',
  [SUB]: 'let lo = a - b; const k = lo < 0 ? 1 : 0; lo >>>= 0; let hi = ah - bh - k; cf = hi < 0 ? 1 : 0; hi >>>= 0; of = ((ah ^ bh) & (ah ^ hi)) >>> 31; af = ((a ^ b ^ lo) >>> 4) & 1;',
  [AND]: 'const lo = (a & b) >>> 0; const hi = (ah & bh) >>> 0; cf = 0; of = 0; af = 0;',
  [OR]: 'const lo = (a | b) >>> 0; const hi = (ah | bh) >>> 0; cf = 0; of = 0; af = 0;',
  [XOR]: 'const lo = (a ^ b) >>> 0; const hi = (ah ^ bh) >>> 0; cf = 0; of = 0; af = 0;',
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
    const flags = 'zr = r; sr = r; pr = r; rh = 0;';
    const store = writes ? `L[${di}] = r; H[${di}] = 0;` : '';
    return withSource(exec, { code: `{ const a = L[${di}]; const b = ${b}; ${body} ${flags} ${store} } ${ip(nl, nh)}`, kind: 'pure' });
  }
  const bh = 'reg' in src ? `H[${src.reg}]` : `${src.ih}`;
  const flags = 'zr = lo | hi; sr = hi; pr = lo; rh = hi;';
  const store = writes ? `L[${di}] = lo; H[${di}] = hi;` : '';
  return withSource(exec, { code: `{ const a = L[${di}]; const ah = H[${di}]; const b = ${b}; const bh = ${bh}; ${body} ${flags} ${store} } ${ip(nl, nh)}`, kind: 'pure' });
}

/** `fastMov`'s closure (register or immediate into a 32/64-bit register) with its template. */
export function movSource(exec: Exec, di: number, src: { reg: number; wide: boolean } | { il: number; ih: number }, nl: number, nh: number): Exec {
  const code = 'reg' in src ? `L[${di}] = L[${src.reg}]; H[${di}] = ${src.wide ? `H[${src.reg}]` : '0'};` : `L[${di}] = ${src.il}; H[${di}] = ${src.ih};`;
  return withSource(exec, { code: `${code} ${ip(nl, nh)}`, kind: 'pure' });
}

/** An effective-address closure (`operands.ts`: absolute, or one base register plus a displacement) with its template. */
export function eaSource(exec: Exec, code: string): Exec {
  return withSource(exec, { code, kind: 'pure' });
}

/**
 * `fastMovMem`'s closure (a 32/64-bit register stored or loaded through `ea`) with its template,
 * where the address has one (absolute or base plus displacement); any other address mode stays
 * a call of the closure, since its address closure reads the registers from the CPU object.
 */
export function movMemSource(exec: Exec, ea: Exec, store: boolean, size: number, ri: number, nl: number, nh: number): Exec {
  const address = sourceOf(ea)?.code;
  if (address === undefined) return exec;
  const wide = size === 8;
  const code = store
    ? `${address} wrFast(c, c.eaLo, c.eaHi, ${size}, L[${ri}], ${wide ? `H[${ri}]` : '0'});`
    : `{ ${address} const v = rd(c, c.eaLo, c.eaHi, ${size}); H[${ri}] = ${wide ? 'c.vh' : '0'}; L[${ri}] = v; }`;
  return withSource(exec, { code: `${code} ${ip(nl, nh)}`, kind: 'memory' });
}

/**
 * `fastPushPop`'s closure with its template: `push`/`pop` of `stack.ts` inline (RSP moves only
 * once the access has succeeded; `push %rsp` pushes the old RSP, `pop %rsp` loads the popped value).
 */
export function pushPopSource(exec: Exec, isPush: boolean, size: 4 | 8, ri: number, is64: boolean, nl: number, nh: number): Exec {
  const wide = size === 8;
  const code = isPush
    ? `{ const vl = L[${ri}]; const vh = ${wide ? `H[${ri}]` : '0'}; let lo = L[4] - ${size}; let hi = H[4]; if (lo < 0) { lo += 4294967296; hi = ${is64 ? '(hi - 1) >>> 0' : '0'}; } wrFast(c, lo, hi, ${size}, vl, vh); L[4] = lo; H[4] = hi; }`
    : `{ const lo = L[4]; const hi = H[4]; const v = rd(c, lo, hi, ${size}); const next = lo + ${size}; L[4] = next >>> 0; if (next > 0xffffffff) H[4] = ${is64 ? '(hi + 1) >>> 0' : '0'}; H[${ri}] = ${wide ? 'c.vh' : '0'}; L[${ri}] = v; }`;
  return withSource(exec, { code: `${code} ${ip(nl, nh)}`, kind: 'memory' });
}

/** `cond` (alu.ts) over the flag locals, by condition code >> 1; odd codes negate. */
const CC_TEST: readonly string[] = ['of !== 0', 'cf !== 0', 'zr === 0', 'cf !== 0 || zr === 0', 'sr >>> 31 !== 0', 'PARITY[pr & 0xff] !== 0', 'sr >>> 31 !== of', 'zr === 0 || sr >>> 31 !== of'];

/** `fastJcc`'s closure with its template. */
export function jccSource(exec: Exec, cc: number, tl: number, th: number, nl: number, nh: number): Exec {
  const t = CC_TEST[(cc >> 1) & 7]!;
  const test = (cc & 1) !== 0 ? `!(${t})` : t;
  return withSource(exec, { code: `if (${test}) { ${ip(tl, th)} } else { ${ip(nl, nh)} }`, kind: 'pure', jump: { target: [tl, th], next: [nl, nh] } });
}
