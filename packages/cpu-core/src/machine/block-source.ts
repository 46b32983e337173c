import { ADD, AND, CMP, OR, PARITY, SAR, SHIFT_AF, SHL, SHR, SUB, TEST, XOR } from './alu.js';
import { rd, wr } from './bus.js';
import { TLB_SIZE } from './cpu-slots.js';
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
 * no fault; after it only the budget and the clock need checking); `memory` loads or stores,
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

/**
 * The flag locals templates write, each with how the block compiler loads it from the CPU and
 * stores it back: CF, AF, OF and the result's high half as they are; ZF, SF and PF as the
 * values they derive from (see `OpSource`), chosen on load to give the CPU's flags back.
 */
export const FLAG_LOCALS: Readonly<Record<string, readonly [string, string]>> = {
  cf: ['c.cf', 'c.cf = cf;'],
  af: ['c.af', 'c.af = af;'],
  of: ['c.of', 'c.of = of;'],
  rh: ['c.rh', 'c.rh = rh;'],
  zr: ['(c.zf !== 0 ? 0 : 1)', 'c.zf = zr === 0 ? 1 : 0;'],
  sr: ['(c.sf << 31)', 'c.sf = sr >>> 31;'],
  pr: ['(c.pf !== 0 ? 0 : 1)', 'c.pf = PARITY[pr & 0xff];'],
};

const SOURCES = new WeakMap<Exec, OpSource>();

/** The helpers templates call, as the generated factory's first parameters. */
export const HELPERS = { PARITY, rd, wr } as const;

/*
 * Loads and stores are `bus.ts`'s `rdFast`/`wrFast` written into the template: their TLB hit
 * inline, `rd`/`wr` called otherwise. A call from a generated block is not inlined (the block
 * uses up V8's inlining budget), and a call boxes every address or value half of 2³⁰ or more
 * — every kernel address: measured, the kernel mix allocated 13 bytes a step through blocks
 * against almost none through the interpreter, and spent 5 % of its time collecting them.
 */

/** The TLB slot of the address `lo` (a source expression), as `bus.ts`'s `tlbSlot`: `_o` the page offset, `_t` the page number's low bits, `_s` the slot. */
const slotOf = (lo: string): string => `const _o = ${lo} & 0xfff; const _t = ${lo} >>> 12; const _s = (_t ^ (_t >>> 6) ^ (_t >>> 12)) & ${TLB_SIZE - 1};`;

/** `rdFast(c, lo, hi, size)` (4 or 8 bytes) into the variable `v`; the high half, as there, in `c.vh`. */
function loadInline(lo: string, hi: string, size: 4 | 8, v: string): string {
  const high = size === 8 ? 'c.vh = _w[(_o >>> 2) + 1] >>> 0; ' : '';
  return `{ ${slotOf(lo)} if ((_o & ${size - 1}) === 0 && c.tlbTags[c.tlbAt + _s] === ${hi} * 1048576 + _t) { const _w = c.tlbFrames[(c.tlbAt >> 1) + _s].words; ${high}${v} = _w[_o >>> 2] >>> 0; } else ${v} = rd(c, ${lo}, ${hi}, ${size}) >>> 0; }`;
}

/** `wrFast(c, lo, hi, size, vl, vh)` (4 or 8 bytes). */
function storeInline(lo: string, hi: string, size: 4 | 8, vl: string, vh: string): string {
  const hit = `(_o & ${size - 1}) === 0 && c.tlbTags[c.tlbAt + ${TLB_SIZE} + _s] === ${hi} * 1048576 + _t ? c.tlbFrames[(c.tlbAt >> 1) + _s] : null`;
  const high = size === 8 ? `_fr.words[(_o >>> 2) + 1] = ${vh}; ` : '';
  const fast = `_fr.words[_o >>> 2] = ${vl}; ${high}if (_fr.dirtyMask === 0) c.m.dirtyFrames.push(_fr); _fr.dirtyMask |= 1 << (_o >>> 8);`;
  return `{ ${slotOf(lo)} const _fr = ${hit}; if (_fr !== null && _fr.flags === 0 && (!c.m.lines || _fr.lineOwner?.[_o >>> 6] === c.id + 1)) { ${fast} } else wr(c, ${lo}, ${hi}, ${size}, ${vl}, ${vh}); }`;
}

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
  if (size !== 4 && size !== 8) return exec;
  const wide = size === 8;
  const code = store
    ? `${address} ${storeInline('c.eaLo', 'c.eaHi', size, `L[${ri}]`, wide ? `H[${ri}]` : '0')}`
    : `{ ${address} let v = 0; ${loadInline('c.eaLo', 'c.eaHi', size, 'v')} H[${ri}] = ${wide ? 'c.vh' : '0'}; L[${ri}] = v; }`;
  return withSource(exec, { code: `${code} ${ip(nl, nh)}`, kind: 'memory' });
}

/**
 * `fastPushPop`'s closure with its template: `push`/`pop` of `stack.ts` inline (RSP moves only
 * once the access has succeeded; `push %rsp` pushes the old RSP, `pop %rsp` loads the popped value).
 */
export function pushPopSource(exec: Exec, isPush: boolean, size: 4 | 8, ri: number, is64: boolean, nl: number, nh: number): Exec {
  const wide = size === 8;
  const code = isPush
    ? `{ const vl = L[${ri}]; const vh = ${wide ? `H[${ri}]` : '0'}; ${pushCode(size, is64, 'vl', 'vh')} }`
    : `{ ${popCode(size, is64)} H[${ri}] = ${wide ? 'c.vh' : '0'}; L[${ri}] = v; }`;
  return withSource(exec, { code: `${code} ${ip(nl, nh)}`, kind: 'memory' });
}

/** `stack.ts`'s `push` of `vl`/`vh`: RSP moves once the write has succeeded. */
function pushCode(size: 4 | 8, is64: boolean, vl: string, vh: string): string {
  return `let lo = L[4] - ${size}; let hi = H[4]; if (lo < 0) { lo += 4294967296; hi = ${is64 ? '(hi - 1) >>> 0' : '0'}; } ${storeInline('lo', 'hi', size, vl, vh)} L[4] = lo; H[4] = hi;`;
}

/** `stack.ts`'s `pop` into `v` (high half in `c.vh`): RSP moves once the read has succeeded. */
function popCode(size: 4 | 8, is64: boolean): string {
  return `const lo = L[4]; const hi = H[4]; let v = 0; ${loadInline('lo', 'hi', size, 'v')} const next = lo + ${size}; L[4] = next >>> 0; if (next > 0xffffffff) H[4] = ${is64 ? '(hi + 1) >>> 0' : '0'};`;
}

/** `cond` (alu.ts) over the flag locals, by condition code >> 1; odd codes negate. */
const CC_TEST: readonly string[] = ['of !== 0', 'cf !== 0', 'zr === 0', 'cf !== 0 || zr === 0', 'sr >>> 31 !== 0', 'PARITY[pr & 0xff] !== 0', 'sr >>> 31 !== of', 'zr === 0 || sr >>> 31 !== of'];

/** `fastJcc`'s closure with its template. */
export function jccSource(exec: Exec, cc: number, tl: number, th: number, nl: number, nh: number): Exec {
  const t = CC_TEST[(cc >> 1) & 7]!;
  const test = (cc & 1) !== 0 ? `!(${t})` : t;
  return withSource(exec, { code: `if (${test}) { ${ip(tl, th)} } else { ${ip(nl, nh)} }`, kind: 'pure', jump: { target: [tl, th], next: [nl, nh] } });
}

/** A nop of any form (`0f 1f 44 00 00`, ftrace's, included): RIP moves on. */
export function nopSource(exec: Exec, nl: number, nh: number): Exec {
  return withSource(exec, { code: ip(nl, nh), kind: 'pure' });
}

/** A near `jmp rel`: the compiler loops a block that jumps back to one of its own instructions. */
export function jmpSource(exec: Exec, tl: number, th: number, nl: number, nh: number): Exec {
  return withSource(exec, { code: ip(tl, th), kind: 'pure', jump: { target: [tl, th], next: [nl, nh] } });
}

/** A near `call rel`: the return address pushed as `push` pushes, then the target. */
export function callSource(exec: Exec, size: number, is64: boolean, tl: number, th: number, nl: number, nh: number): Exec {
  if (size !== 4 && size !== 8) return exec;
  return withSource(exec, { code: `{ ${pushCode(size, is64, `${nl}`, `${nh}`)} } ${ip(tl, th)}`, kind: 'memory' });
}

/** `ret` without an immediate: the popped address is the new RIP. */
export function retSource(exec: Exec, size: number, is64: boolean): Exec {
  if (size !== 4 && size !== 8) return exec;
  return withSource(exec, { code: `{ ${popCode(size, is64)} ipl = v; iph = ${is64 ? 'c.vh' : '0'}; }`, kind: 'memory' });
}

/**
 * A fault in the store of a read-modify-write leaves the flags as `alu()` set them (the closure
 * sets them before it stores): the template writes its flag locals to the CPU before rethrowing.
 */
function storeOrFault(store: string, flags: readonly string[]): string {
  return `try { ${store} } catch (x) { ${flags.map((f) => FLAG_LOCALS[f]![1]).join(' ')} throw x; }`;
}

/** The ALU body over `a`(/`ah`) and `b`(/`bh`) with the flag locals set, result in `r` (32-bit) or `lo`/`hi` (64-bit). */
function aluBody(op: number, size: 4 | 8): string | undefined {
  const body = (size === 8 ? ALU64 : ALU32)[op];
  if (body === undefined) return undefined;
  return size === 8 ? `${body} zr = lo | hi; sr = hi; pr = lo; rh = hi;` : `${body} zr = r; sr = r; pr = r; rh = 0;`;
}

const ALL_FLAGS = ['cf', 'af', 'of', 'zr', 'sr', 'pr', 'rh'] as const;

/** What an ALU template with a memory operand is made of: the address's template and the operation's; none for a shape without either. */
function memoryAlu(ea: Exec, op: number, size: number): { address: string; body: string; size: 4 | 8 } | undefined {
  const address = sourceOf(ea)?.code;
  if (address === undefined || (size !== 4 && size !== 8)) return undefined;
  const body = aluBody(op, size);
  return body === undefined ? undefined : { address, body, size };
}

/** `op [mem], imm` (`aluImmToMemory`, isa/alu.ts): load, the operation, the store unless CMP/TEST. */
export function aluImmToMemorySource(exec: Exec, ea: Exec, op: number, width: number, il: number, ih: number, writes: boolean, nl: number, nh: number): Exec {
  const parts = memoryAlu(ea, op, width);
  if (parts === undefined) return exec;
  const { address, body, size } = parts;
  const wide = size === 8;
  const load = `let a = 0; ${loadInline('c.eaLo', 'c.eaHi', size, 'a')} ${wide ? 'const ah = c.vh; ' : ''}const b = ${il}; ${wide ? `const bh = ${ih}; ` : ''}`;
  const store = writes ? storeOrFault(storeInline('c.eaLo', 'c.eaHi', size, wide ? 'lo' : 'r', wide ? 'hi' : '0'), ALL_FLAGS) : '';
  return withSource(exec, { code: `{ ${address} ${load}${body} ${store} } ${ip(nl, nh)}`, kind: 'memory' });
}

/** `op %reg, [mem]` with a 32/64-bit register (`aluMemoryToRegister`, isa/alu.ts). */
export function aluMemoryToRegisterSource(exec: Exec, ea: Exec, op: number, width: number, di: number, writes: boolean, nl: number, nh: number): Exec {
  const parts = memoryAlu(ea, op, width);
  if (parts === undefined) return exec;
  const { address, body, size } = parts;
  const wide = size === 8;
  const operands = `const a = L[${di}]; ${wide ? `const ah = H[${di}]; ` : ''}${address} let b = 0; ${loadInline('c.eaLo', 'c.eaHi', size, 'b')} ${wide ? 'const bh = c.vh; ' : ''}`;
  const store = writes ? (wide ? `L[${di}] = lo; H[${di}] = hi;` : `L[${di}] = r; H[${di}] = 0;`) : '';
  return withSource(exec, { code: `{ ${operands}${body} ${store} } ${ip(nl, nh)}`, kind: 'memory' });
}

/** `inc`/`dec` of memory (`buildIncDec`, isa/alu.ts): CF is kept. */
export function incDecMemorySource(exec: Exec, ea: Exec, inc: boolean, width: number, nl: number, nh: number): Exec {
  const parts = memoryAlu(ea, inc ? ADD : SUB, width);
  if (parts === undefined) return exec;
  const { address, size } = parts;
  // The ALU templates' ADD/SUB with b = 1 and their carry computed into a local the block never
  // reads: a template that still wrote `cf` would mark it changed without it being loaded.
  const body = parts.body.replace(/\bcf = /, 'const carry = ');
  if (/\bcf\b/.test(body)) throw new Error(`inc/dec template still writes cf: ${body}`);
  const wide = size === 8;
  const load = `let a = 0; ${loadInline('c.eaLo', 'c.eaHi', size, 'a')} ${wide ? 'const ah = c.vh; const bh = 0; ' : ''}const b = 1; `;
  const store = storeOrFault(storeInline('c.eaLo', 'c.eaHi', size, wide ? 'lo' : 'r', wide ? 'hi' : '0'), ALL_FLAGS.filter((f) => f !== 'cf'));
  return withSource(exec, { code: `{ ${address} ${load}${body} ${store} } ${ip(nl, nh)}`, kind: 'memory' });
}

/** The count-specific body of `shift()` (32-bit) or `shift64()` (alu.ts) for SHL/SHR/SAR and a count of 1..31 / 1..63, result in `r`/`rlo`+`rhi`. */
function shiftBody(kind: number, size: 4 | 8, n: number): string | undefined {
  if (size === 4) {
    const head = 'const a = L[D];';
    const tail = `r = r >>> 0; zr = r; sr = r; pr = r; af = ${SHIFT_AF}; rh = 0; L[D] = r; H[D] = 0;`;
    if (kind === SHL) return `${head} const wide = a * ${2 ** n}; cf = Math.floor(wide / 4294967296) & 1; let r = wide % 4294967296; of = ((r & 0x80000000) !== 0 ? 1 : 0) ^ cf; ${tail}`;
    if (kind === SHR) return `${head} cf = Math.floor(a / ${2 ** (n - 1)}) & 1; let r = Math.floor(a / ${2 ** n}); of = (r & 0x40000000) !== 0 ? 1 : 0; ${tail}`;
    if (kind === SAR) return `${head} const s = a | 0; cf = (s >> ${n - 1}) & 1; let r = ((s >> ${n}) & 0xffffffff) >>> 0; of = 0; ${tail}`;
    return undefined;
  }
  const head = 'const lo = L[D]; const hi = H[D];';
  const tail = `zr = rlo | rhi; sr = rhi; pr = rlo; af = ${SHIFT_AF}; rh = rhi; L[D] = rlo; H[D] = rhi;`;
  const lowCarry = n <= 32 ? `cf = (lo >>> ${n - 1}) & 1;` : `cf = (hi >>> ${n - 33}) & 1;`;
  if (kind === SHL) {
    const r = n < 32 ? `const rhi = ((hi << ${n}) | (lo >>> ${32 - n})) >>> 0; const rlo = (lo << ${n}) >>> 0;` : `const rhi = ${n === 32 ? 'lo' : `(lo << ${n - 32}) >>> 0`}; const rlo = 0;`;
    const carry = n <= 32 ? `cf = (hi >>> ${32 - n}) & 1;` : `cf = (lo >>> ${64 - n}) & 1;`;
    return `${head} ${r} ${carry} of = (rhi >>> 31) ^ cf; ${tail}`;
  }
  if (kind === SHR) {
    const r = n < 32 ? `const rlo = ((lo >>> ${n}) | (hi << ${32 - n})) >>> 0; const rhi = hi >>> ${n};` : `const rlo = ${n === 32 ? 'hi' : `hi >>> ${n - 32}`}; const rhi = 0;`;
    return `${head} ${r} ${lowCarry} of = ${n === 1 ? 'hi >>> 31' : '0'}; ${tail}`;
  }
  if (kind === SAR) {
    const r = n < 32 ? `const rlo = ((lo >>> ${n}) | (hi << ${32 - n})) >>> 0; const rhi = ((hi | 0) >> ${n}) >>> 0;` : `const rlo = ((hi | 0) >> ${n - 32}) >>> 0; const rhi = ((hi | 0) >> 31) >>> 0;`;
    return `${head} ${r} ${lowCarry} of = 0; ${tail}`;
  }
  return undefined;
}

/** `shl/shr/sar %reg, imm` on a 32/64-bit register (`shiftRegisterByImm`, isa/alu.ts); a count that masks to 0 and the rotates keep their closure. */
export function shiftSource(exec: Exec, kind: number, size: number, di: number, count: number, nl: number, nh: number): Exec {
  const n = count & (size === 8 ? 63 : 31);
  const body = n !== 0 && (size === 4 || size === 8) ? shiftBody(kind, size, n) : undefined;
  if (body === undefined) return exec;
  return withSource(exec, { code: `{ ${body.replace(/\bD\]/g, `${di}]`)} } ${ip(nl, nh)}`, kind: 'pure' });
}
