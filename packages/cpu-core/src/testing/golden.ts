import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { Code, Decoder, DecoderOptions } from 'iced-x86';

// The golden corpus of tools/oracle: instruction sequences with the state a real CPU left
// after them. Shared by the generator (which runs them natively) and the test (which runs
// them on the machine).

/** Where the harness and the test put the code and the data page. */
export const CODE = 0x20000000n;
export const DATA = 0x10000000n;
/** The corpus file, relative to the package root. */
export const CORPUS_PATH = 'test-data/oracle-golden.json.gz';
/** RFLAGS bits compared: CF PF AF ZF SF OF and DF. */
export const FLAG_MASK = 0xcd5;

/** xorshift32: the harness fills the data page with the same generator. */
export class Rng {
  private x: number;
  constructor(seed: number) {
    this.x = seed | 1;
  }
  next(): number {
    let x = this.x;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.x = x >>> 0;
    return this.x;
  }
  int(n: number): number {
    return this.next() % n;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  chance(p: number): boolean {
    return this.next() / 4294967296 < p;
  }
}

export interface GoldenResult {
  /** x86 vector of the fault the sequence raised, or -1. */
  readonly vector: number;
  /** Registers that changed (index -> value), RFLAGS & FLAG_MASK, data-page bytes that changed. */
  readonly regs: ReadonlyMap<number, bigint>;
  readonly flags: number;
  readonly diffs: readonly (readonly [number, number])[];
}

export interface GoldenCase {
  readonly bitness: 32 | 64;
  readonly code: Uint8Array;
  readonly seed: number;
  readonly flags: number;
  /** Register values set on top of `baseRegs(seed)`. */
  readonly regs: Map<number, bigint>;
  expect?: GoldenResult;
}

const INTERESTING = [0n, 1n, 0xffffffffffffffffn, 0x80000000n, 0x7fffffffn, 0x8000000000000000n, 0xffffffffn, 0x7fffffffffffffffn, 0xffffffff80000000n, 0x100000000n];

/** The registers of a case before its overrides: a mix of random, small and boundary values; rSP in the data page. */
export function baseRegs(seed: number, bitness: 32 | 64): bigint[] {
  const rng = new Rng(seed ^ 0x5bd1e995);
  const out: bigint[] = [];
  for (let i = 0; i < 16; i++) {
    const kind = rng.int(4);
    let v: bigint;
    if (kind === 0) v = (BigInt(rng.next()) << 32n) | BigInt(rng.next());
    else if (kind === 1) v = BigInt(rng.int(256));
    else if (kind === 2) v = rng.pick(INTERESTING);
    else v = BigInt.asUintN(64, BigInt(rng.next() | 0));
    out.push(BigInt.asUintN(bitness, v));
  }
  out[4] = DATA + 0x800n;
  if (bitness === 32) out.fill(0n, 8);
  return out;
}

/** The data page's initial bytes for a seed. */
export function dataPage(seed: number): Uint8Array {
  const rng = new Rng(seed);
  const page = new Uint8Array(4096);
  for (let i = 0; i < 4096; i++) page[i] = rng.next() & 0xff;
  return page;
}

const hex = (v: bigint): string => v.toString(16);
const hexBytes = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

type Packed = [number, string, number, number, [number, string][], number, [number, string][], number, [number, number][]];

/** One case as a compact JSON line. */
export function encodeCase(k: GoldenCase): string {
  const e = k.expect!;
  const packed: Packed = [k.bitness, hexBytes(k.code), k.seed, k.flags, [...k.regs].map(([i, v]) => [i, hex(BigInt.asUintN(64, v))]), e.vector, [...e.regs].map(([i, v]) => [i, hex(v)]), e.flags, e.diffs.map(([o, v]) => [o, v])];
  return JSON.stringify(packed);
}

export function decodeCase(line: string): GoldenCase {
  const [bitness, code, seed, flags, regs, vector, regsOut, flagsOut, diffs] = JSON.parse(line) as Packed;
  const bytes = new Uint8Array(code.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(code.slice(i * 2, i * 2 + 2), 16);
  return {
    bitness: bitness === 32 ? 32 : 64,
    code: bytes,
    seed,
    flags,
    regs: new Map(regs.map(([i, v]) => [i, BigInt(`0x${v}`)])),
    expect: { vector, regs: new Map(regsOut.map(([i, v]) => [i, BigInt(`0x${v}`)])), flags: flagsOut, diffs },
  };
}

/** Reads the corpus checked into the package. */
export function loadCorpus(): GoldenCase[] {
  const text = gunzipSync(readFileSync(new URL(`../../${CORPUS_PATH}`, import.meta.url))).toString('utf8');
  return text.split('\n').map(decodeCase);
}

/** iced form names (`Code`) of the instructions of a case. */
export function formsOf(k: GoldenCase): string[] {
  const d = new Decoder(k.bitness, k.code, DecoderOptions.None);
  d.ip = CODE;
  const out: string[] = [];
  try {
    while (d.canDecode) {
      const instr = d.decode();
      out.push(Code[instr.code]);
      instr.free();
    }
  } finally {
    d.free();
  }
  return out;
}

/** Golden cases per form and mode: form name -> [64-bit cases, 32-bit cases]. */
export function casesPerForm(cases: readonly GoldenCase[]): Map<string, [number, number]> {
  const out = new Map<string, [number, number]>();
  for (const k of cases) {
    for (const f of formsOf(k)) {
      const n = out.get(f) ?? [0, 0];
      n[k.bitness === 64 ? 0 : 1]++;
      out.set(f, n);
    }
  }
  return out;
}
