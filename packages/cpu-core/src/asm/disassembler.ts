import { Code, Decoder, DecoderOptions, Formatter, FormatterSyntax, OpKind } from 'iced-x86';
import type { Instruction } from 'iced-x86';
import { AsmError } from './errors.js';
import type { Bitness } from './iced.js';
import { SymbolTable } from './symbols.js';

/** One decoded instruction. */
export interface DecodedInstruction {
  readonly address: bigint;
  readonly length: number;
  /** The instruction's bytes as lowercase hex pairs separated by spaces, e.g. `0f 1f 44 00 00`. */
  readonly bytes: string;
  /** GNU/AT&T text as objdump prints it, e.g. `nopl 0x0(%rax,%rax,1)`, `callq ffffffff81000010 <mcount>`. */
  readonly text: string;
  /** Mnemonic as printed (first word of `text`, prefixes like `rep`/`lock` excluded). */
  readonly mnemonic: string;
  /** False for bytes that do not decode (`(bad)`). */
  readonly valid: boolean;
}

export interface DisassemblerOptions {
  readonly bitness: Bitness;
  readonly symbols?: SymbolTable | ReadonlyMap<string, bigint>;
}

export interface DisassembleOptions extends DisassemblerOptions {
  readonly origin: bigint;
}

const MAX_CACHE = 1 << 16;
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function hexBytes(bytes: Uint8Array, from: number, length: number): string {
  let s = '';
  for (let i = 0; i < length; i++) s += (i === 0 ? '' : ' ') + (HEX[bytes[from + i] ?? 0] ?? '');
  return s;
}

function makeFormatter(zeroDisplacements: boolean): Formatter {
  const f = new Formatter(FormatterSyntax.Gas);
  f.uppercaseHex = false;
  f.smallHexNumbersInDecimal = false;
  f.alwaysShowScale = true; // objdump prints (%rax,%rax,1); the stray comma iced leaves without an index is removed below
  f.ripRelativeAddresses = true;
  f.branchLeadingZeros = false;
  f.showZeroDisplacements = zeroDisplacements;
  return f;
}

const STRINGS = new Set(['movsb', 'movsw', 'movsl', 'movsq', 'stos', 'lods', 'scas', 'cmpsb', 'cmpsw', 'cmpsl', 'cmpsq']);
const QUADS = new Set(['call', 'ret', 'pushf', 'popf', 'leave']);
const ONE_SHIFTS = new Set<Code>(
  Object.entries(Code as unknown as Record<string, Code | string>)
    .filter((e): e is [string, Code] => typeof e[1] === 'number' && /^(Rol|Ror|Rcl|Rcr|Shl|Shr|Sal|Sar)_rm\d+_1$/.test(e[0]))
    .map(([, value]) => value),
);
const IMMEDIATES = new Set<OpKind>([OpKind.Immediate8, OpKind.Immediate8to16, OpKind.Immediate8to32, OpKind.Immediate8to64, OpKind.Immediate16, OpKind.Immediate32, OpKind.Immediate32to64]);
const isImmediate = (k: OpKind | undefined): boolean => k !== undefined && IMMEDIATES.has(k);

const FAR = new Set<Code>([Code.Call_m1632, Code.Jmp_m1632, Code.Call_m1616, Code.Jmp_m1616, Code.Call_m1664, Code.Jmp_m1664]);

/* Shared because iced's WebAssembly objects are never garbage collected in this build. */
const FORMATTERS: Formatter[] = [];
function formatter(zeroDisplacements: boolean): Formatter {
  const i = zeroDisplacements ? 1 : 0;
  let f = FORMATTERS[i];
  if (!f) {
    f = makeFormatter(zeroDisplacements);
    FORMATTERS[i] = f;
  }
  return f;
}

const NEAR_BRANCH = new Set<OpKind>([OpKind.NearBranch16, OpKind.NearBranch32, OpKind.NearBranch64]);

/**
 * A decoder plus objdump-style formatter with a cache keyed by address and bytes,
 * so tracing the same code again costs a map lookup.
 */
export class Disassembler {
  readonly bitness: Bitness;
  readonly symbols: SymbolTable;
  readonly #cache = new Map<bigint, { readonly raw: Uint8Array; readonly line: DecodedInstruction }[]>();
  #cached = 0;

  constructor(options: DisassemblerOptions) {
    const bitness: number = options.bitness;
    if (bitness !== 32 && bitness !== 64) {
      throw new AsmError('KERNSIM_ASM_BAD_OPTIONS', `bitness must be 32 or 64, got ${String(options.bitness)}`);
    }
    this.bitness = options.bitness;
    const s = options.symbols;
    this.symbols = s instanceof SymbolTable ? s : new SymbolTable(s ?? []);
  }

  /** Decodes the instruction at the start of `bytes`, located at `address`. */
  decodeOne(bytes: Uint8Array, address: bigint): DecodedInstruction {
    const hits = this.#cache.get(address);
    if (hits) {
      for (const hit of hits) if (startsWith(bytes, hit.raw)) return hit.line;
    }
    const window = bytes.length > 15 ? bytes.subarray(0, 15) : bytes;
    const decoder = new Decoder(this.bitness, window, DecoderOptions.None);
    decoder.ip = address;
    const ins = decoder.decode();
    const line = this.#line(ins, window, 0, address);
    ins.free();
    decoder.free();
    this.#remember(line, window);
    return line;
  }

  /** Decodes `bytes` placed at `origin` from start to end (undecodable bytes become one-byte `(bad)` lines). */
  disassemble(bytes: Uint8Array, origin: bigint): DecodedInstruction[] {
    const out: DecodedInstruction[] = [];
    const decoder = new Decoder(this.bitness, bytes, DecoderOptions.None);
    decoder.ip = origin;
    let position = 0;
    while (position < bytes.length) {
      decoder.position = position;
      decoder.ip = origin + BigInt(position);
      const ins = decoder.decode();
      const line = this.#line(ins, bytes, position, origin + BigInt(position));
      ins.free();
      out.push(line);
      position += line.length;
    }
    decoder.free();
    return out;
  }

  /** `sym+0xoff` for an address, or undefined when no symbol lies at or below it. */
  symbolize(address: bigint): string | undefined {
    return this.symbols.symbolize(address);
  }

  #remember(line: DecodedInstruction, window: Uint8Array): void {
    if (!line.valid) return;
    if (this.#cached >= MAX_CACHE) {
      this.#cache.clear();
      this.#cached = 0;
    }
    const entry = { raw: window.slice(0, line.length), line };
    const list = this.#cache.get(line.address);
    if (list) list.push(entry);
    else this.#cache.set(line.address, [entry]);
    this.#cached++;
  }

  #line(ins: Instruction, bytes: Uint8Array, from: number, address: bigint): DecodedInstruction {
    if (ins.code === Code.INVALID) {
      return { address, length: 1, bytes: hexBytes(bytes, from, 1), text: '(bad)', mnemonic: '(bad)', valid: false };
    }
    const length = ins.length;
    const { text, mnemonic } = this.#text(ins);
    return { address, length, bytes: hexBytes(bytes, from, length), text, mnemonic, valid: true };
  }

  #text(ins: Instruction): { text: string; mnemonic: string } {
    // objdump shows a zero displacement whenever the encoding has one (always, for rip-relative).
    const zero = ins.isIpRelMemoryOperand || (ins.memoryDisplSize > 0 && ins.memoryDisplacement === 0n);
    const f = formatter(zero);
    let mnemonic = f.formatMnemonic(ins);
    const words = mnemonic.split(' ');
    let mn = words[words.length - 1] ?? mnemonic;
    const op0 = ins.opCount > 0 ? ins.op0Kind : undefined;
    const branch = op0 !== undefined && NEAR_BRANCH.has(op0);
    // objdump (binutils of the article's era) writes callq/retq/jmpq for 64-bit near call/ret and indirect jmp.
    const jmpq = mn === 'jmp' && (!branch || ins.code === Code.Jmp_rel32_64);
    if (this.bitness === 64 && (QUADS.has(mn) || jmpq || (mn === 'push' && isImmediate(op0)))) {
      mn += 'q';
      words[words.length - 1] = mn;
      mnemonic = words.join(' ');
    }
    // objdump of that era prints 32-bit indirect near call/jmp without the `l` suffix.
    if (this.bitness === 32 && (mn === 'calll' || mn === 'jmpl') && !FAR.has(ins.code)) {
      mn = mn.slice(0, -1);
      words[words.length - 1] = mn;
      mnemonic = words.join(' ');
    }
    let operands: string;
    let comment = '';
    if (branch) {
      const target = ins.nearBranchTarget;
      const sym = this.symbols.symbolize(target);
      operands = `${target.toString(16)}${sym !== undefined ? ` <${sym}>` : ''}`;
    } else {
      operands = f.formatAllOperands(ins).replaceAll(',)', ')');
      // objdump spells the port register (%dx) and leaves the implicit count of shift-by-one out.
      if (mn === 'in' || mn === 'out') operands = operands.replace('%dx', '(%dx)');
      else if (STRINGS.has(mn)) operands = operands.replace(/(^|,)\((%[re]si)\)/, '$1%ds:($2)').replace(/(^|,)\((%[re]di)\)/, '$1%es:($2)');
      else if (ONE_SHIFTS.has(ins.code)) operands = operands.replace(/^\$0x1,/, '');
      if (ins.isIpRelMemoryOperand) {
        const target = ins.ipRelMemoryAddress;
        const sym = this.symbols.symbolize(target);
        comment = ` # ${target.toString(16)}${sym !== undefined ? ` <${sym}>` : ''}`;
      }
    }
    const text = operands === '' ? mnemonic : `${mnemonic} ${operands}${comment}`;
    return { text, mnemonic: mn };
  }
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (bytes.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (prefix[i] !== bytes[i]) return false;
  return true;
}

const shared = new Map<Bitness, Disassembler>();
const withSymbols = new WeakMap<object, Map<Bitness, Disassembler>>();

function disassemblerFor(bitness: Bitness, symbols?: SymbolTable | ReadonlyMap<string, bigint>): Disassembler {
  const table = symbols === undefined ? shared : withSymbols.get(symbols) ?? new Map<Bitness, Disassembler>();
  if (symbols !== undefined) withSymbols.set(symbols, table);
  let d = table.get(bitness);
  if (!d) {
    d = new Disassembler(symbols === undefined ? { bitness } : { bitness, symbols });
    table.set(bitness, d);
  }
  return d;
}

/** Disassembles a byte range placed at `origin` into objdump-style lines. */
export function disassemble(bytes: Uint8Array, options: DisassembleOptions): DecodedInstruction[] {
  return disassemblerFor(options.bitness, options.symbols).disassemble(bytes, options.origin);
}

/** Decodes one instruction (cached by address and bytes); used by the machine's trace. */
export function decodeOne(
  bytes: Uint8Array,
  address: bigint,
  bitness: Bitness,
  symbols?: SymbolTable | ReadonlyMap<string, bigint>,
): DecodedInstruction {
  return disassemblerFor(bitness, symbols).decodeOne(bytes, address);
}
