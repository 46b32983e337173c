import { Encoder } from 'iced-x86';
import type { Instruction } from 'iced-x86';
import { AsmError } from './errors.js';
import type { AsmErrorCode } from './errors.js';
import type { Form } from './form.js';
import { fitsI8 } from './iced.js';
import type { Bitness, BuildContext } from './iced.js';

/*
 * Layout: turns the assembler's item list into bytes at an origin. Jumps start short and
 * only grow (never shrink), so relaxation reaches a fixed point in at most one pass per
 * jump; everything else has a size known when it was emitted.
 */

/** The result of `Assembler.assemble()`. */
export interface AssembledCode {
  readonly origin: bigint;
  readonly bitness: Bitness;
  readonly bytes: Uint8Array;
  /** Address just past the last byte. */
  readonly end: bigint;
  /** Global labels (every label not starting with `.`), for symbol tables and traces. */
  readonly symbols: ReadonlyMap<string, bigint>;
  /** Every label, local `.L…` ones included. */
  readonly labels: ReadonlyMap<string, bigint>;
}

/**
 * Forces a jump's encoding: `'near'` (e9/0f 8x rel32, e.g. a 5-byte jump that text
 * patching will swap with a 5-byte nop) or `'short'` (eb/7x rel8; an error if out of reach).
 * Without it the assembler picks the shortest that reaches.
 */
export type BranchSize = 'short' | 'near';

export type Item =
  | { readonly t: 'bytes'; readonly bytes: Uint8Array }
  | { readonly t: 'insn'; readonly size: number; readonly form: Form; readonly lock: boolean; readonly source: string }
  | { readonly t: 'branch'; readonly op: number; readonly target: string | bigint; readonly size: BranchSize | undefined; readonly source: string }
  | { readonly t: 'label'; readonly name: string }
  | { readonly t: 'align'; readonly n: number; readonly fill: number }
  | { readonly t: 'ref'; readonly width: 4 | 8; readonly label: string; readonly addend: bigint };

export const CALL = -2;
export const JMP = -1;

/**
 * Position-independent encodings by mnemonic and operands. Kernel code repeats the same
 * instructions a lot and scenarios rebuild the same code for every run, so this skips
 * the WebAssembly encoder most of the time. Entries are never mutated.
 */
const ENCODED: Readonly<Record<Bitness, Map<string, Uint8Array>>> = { 32: new Map(), 64: new Map() };
const MAX_ENCODED = 1 << 15;

/*
 * iced's WebAssembly objects are not garbage collected (this build has no finalizers), so
 * one encoder per mode is shared by every Assembler; JavaScript being single-threaded, an
 * encode and its takeBuffer never interleave with another.
 */
const ENCODERS = new Map<Bitness, Encoder>();
function encoderFor(bitness: Bitness): Encoder {
  let e = ENCODERS.get(bitness);
  if (!e) {
    e = new Encoder(bitness);
    ENCODERS.set(bitness, e);
  }
  return e;
}

export const SIZING: BuildContext = { resolve: () => 0n, ip: 0n, nextIp: 0n };

function fail(code: AsmErrorCode, message: string): AsmError {
  return new AsmError(code, message);
}

/** Encodes a position-independent form, from the cache when this mnemonic and operands were seen before. */
export function encodeFixed(form: Form, lock: boolean, source: string, bitness: Bitness): Uint8Array {
  const key = lock ? `lock ${form.key}` : form.key;
  const cache = ENCODED[bitness];
  let bytes = cache.get(key);
  if (!bytes) {
    bytes = encodeForm(form, SIZING, lock, source, bitness);
    if (cache.size >= MAX_ENCODED) cache.clear();
    cache.set(key, bytes);
  }
  return bytes;
}

export function encodeForm(form: Form, ctx: BuildContext, lock: boolean, source: string, bitness: Bitness): Uint8Array {
  let ins: Instruction | undefined;
  try {
    ins = form.build(ctx);
    if (lock) ins.hasLockPrefix = true;
    const encoder = encoderFor(bitness);
    encoder.encode(ins, ctx.ip);
    return encoder.takeBuffer();
  } catch (e) {
    if (e instanceof AsmError) throw e;
    encoderFor(bitness).takeBuffer();
    const message = e instanceof Error ? e.message : String(e);
    const code: AsmErrorCode = /range|fit|too far/i.test(message) ? 'KERNSIM_ASM_RANGE' : 'KERNSIM_ASM_BAD_OPERANDS';
    throw new AsmError(code, `${source}: x86 cannot encode this (${message})`, { cause: e });
  } finally {
    ins?.free();
  }
}

/** Lays `items` out at `origin`, relaxing jumps, and resolves every label. */
export function layout(items: readonly Item[], origin: bigint, bitness: Bitness): AssembledCode {
  const near = Uint8Array.from(items, (item) => (item.t === 'branch' && item.size === 'near' ? 1 : 0));
  const offsets = new Float64Array(items.length + 1);
  const labels = new Map<string, number>();
  const originMod = (n: number): number => Number(origin % BigInt(n));
  const sizeOf = (item: Item, i: number, at: number): number => {
    switch (item.t) {
      case 'bytes': return item.bytes.length;
      case 'insn': return item.size;
      case 'branch': return item.op === CALL ? 5 : near[i] === 0 ? 2 : item.op === JMP ? 5 : 6;
      case 'label': return 0;
      case 'align': return (item.n - ((originMod(item.n) + at) % item.n)) % item.n;
      case 'ref': return item.width;
    }
  };
  const targetOffset = (target: string | bigint): number =>
    typeof target === 'string' ? (labels.get(target) ?? 0) : Number(target - origin);
  for (let pass = 0; ; pass++) {
    let at = 0;
    for (const [i, item] of items.entries()) {
      offsets[i] = at;
      if (item.t === 'label') labels.set(item.name, at);
      at += sizeOf(item, i, at);
    }
    offsets[items.length] = at;
    let grew = false;
    for (const [i, item] of items.entries()) {
      if (item.t !== 'branch' || item.op === CALL || near[i] === 1 || item.size === 'short') continue;
      const rel = targetOffset(item.target) - ((offsets[i] ?? 0) + 2);
      if (rel < -128 || rel > 127) {
        near[i] = 1;
        grew = true;
      }
    }
    if (!grew || pass > items.length) break;
}
  const total = offsets[items.length] ?? 0;
  const bytes = new Uint8Array(total);
  const addresses = new Map<string, bigint>();
  for (const [name, off] of labels) addresses.set(name, origin + BigInt(off));
  const resolve = (label: string): bigint => addresses.get(label) ?? 0n;
  for (const [i, item] of items.entries()) {
    const off = offsets[i] ?? 0;
    const ip = origin + BigInt(off);
    switch (item.t) {
      case 'bytes':
        bytes.set(item.bytes, off);
        break;
      case 'insn': {
        const out = encodeForm(item.form, { resolve, ip, nextIp: ip + BigInt(item.size) }, item.lock, item.source, bitness);
        if (out.length !== item.size) throw fail('KERNSIM_ASM_RANGE', `${item.source}: encoding changed size at its final address`);
        bytes.set(out, off);
        break;
      }
      case 'branch':
        bytes.set(branchBytes(item, near[i] === 1, ip, resolve, bitness), off);
        break;
      case 'align':
        bytes.fill(item.fill, off, offsets[i + 1] ?? off);
        break;
      case 'ref':
        bytes.set(littleEndian([checkWidth(resolve(item.label) + item.addend, item.width, item.label)], item.width), off);
        break;
      case 'label':
        break;
    }
}
  const symbols = new Map<string, bigint>();
  for (const [name, address] of addresses) if (!name.startsWith('.')) symbols.set(name, address);
  return { origin: origin, bitness: bitness, bytes, end: origin + BigInt(total), symbols, labels: addresses };
}

function branchBytes(
item: { readonly op: number; readonly target: string | bigint; readonly source: string },
isNear: boolean,
ip: bigint,
resolve: (l: string) => bigint,
bitness: Bitness,
): Uint8Array {
  const target = typeof item.target === 'string' ? resolve(item.target) : item.target;
  const head = item.op === CALL ? [0xe8] : item.op === JMP ? [isNear ? 0xe9 : 0xeb] : isNear ? [0x0f, 0x80 + item.op] : [0x70 + item.op];
  const width = isNear || item.op === CALL ? 4 : 1;
  const next = ip + BigInt(head.length + width);
  const rel = bitness === 64 ? BigInt.asIntN(64, target - next) : BigInt.asIntN(32, target - next);
  if (width === 4 && (rel < -0x80000000n || rel > 0x7fffffffn)) {
    throw fail('KERNSIM_ASM_RANGE', `${item.source}: target 0x${target.toString(16)} is more than 2 GiB away from 0x${ip.toString(16)}`);
  }
  if (width === 1 && !fitsI8(rel)) throw fail('KERNSIM_ASM_RANGE', `${item.source}: short branch out of range`);
  const out = new Uint8Array(head.length + width);
  out.set(head);
  const u = BigInt.asUintN(32, rel);
  for (let k = 0; k < width; k++) out[head.length + k] = Number((u >> BigInt(8 * k)) & 0xffn);
  return out;
}

export function checkWidth(v: bigint, width: number, what: string): bigint {
  const bits = BigInt(width * 8);
  if (v < -(1n << (bits - 1n)) || v >= 1n << bits) throw fail('KERNSIM_ASM_RANGE', `${what}: ${v.toString()} does not fit ${bits.toString()} bits`);
  return BigInt.asUintN(width * 8, v);
}

export function littleEndian(values: readonly bigint[], width: number): Uint8Array {
  const out = new Uint8Array(values.length * width);
  values.forEach((v, i) => {
    const u = BigInt.asUintN(width * 8, v);
    for (let k = 0; k < width; k++) out[i * width + k] = Number((u >> BigInt(8 * k)) & 0xffn);
  });
  return out;
}
