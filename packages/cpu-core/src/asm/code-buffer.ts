import { AsmError } from './errors.js';
import type { AsmErrorCode } from './errors.js';
import type { Form } from './form.js';
import type { Bitness } from './iced.js';
import { SIZING, checkWidth, encodeFixed, encodeForm, layout, littleEndian } from './layout.js';
import type { AssembledCode, BranchSize, Item } from './layout.js';

export interface AssemblerOptions {
  readonly bitness: Bitness;
  /** Address of the first byte. */
  readonly origin: bigint;
}

export function fail(code: AsmErrorCode, message: string): AsmError {
  return new AsmError(code, message);
}

/**
 * What an assembler writes into: the list of bytes, instructions, jumps, labels and data
 * that `assemble()` lays out, the pending lock/rep prefix, and the directives (labels,
 * data, alignment) that are not instructions. `Assembler` adds the mnemonics.
 */
export class CodeBuffer {
  readonly bitness: Bitness;
  readonly origin: bigint;
  readonly #items: Item[] = [];
  readonly #defined = new Set<string>();
  #lock = false;
  #rep = false;

  constructor(options: AssemblerOptions) {
    const bitness: number = options.bitness;
    if (bitness !== 32 && bitness !== 64) {
      throw fail('KERNSIM_ASM_BAD_OPTIONS', `bitness must be 32 or 64, got ${String(options.bitness)}`);
    }
    const max = options.bitness === 64 ? 1n << 64n : 1n << 32n;
    if (options.origin < 0n || options.origin >= max) {
      throw fail('KERNSIM_ASM_BAD_OPTIONS', `origin 0x${options.origin.toString(16)} is outside the ${String(options.bitness)}-bit address space`);
    }
    this.bitness = options.bitness;
    this.origin = options.origin;
  }

  // ---- labels and data -------------------------------------------------------

  /** Defines a label at the current position. Names starting with `.` stay local (not in `symbols`). */
  label(name: string): this {
    if (name === '') throw fail('KERNSIM_ASM_BAD_OPERANDS', 'a label needs a name');
    if (this.#defined.has(name)) throw fail('KERNSIM_ASM_DUPLICATE_LABEL', `label ${name} is already defined`);
    this.#defined.add(name);
    this.#items.push({ t: 'label', name });
    return this;
  }

  db(...values: readonly (number | Uint8Array)[]): this {
    const out: number[] = [];
    for (const v of values) {
      if (typeof v === 'number') out.push(this.#int(v, 1, 'db'));
      else out.push(...v);
    }
    return this.emitBytes(Uint8Array.from(out));
  }

  dw(...values: readonly number[]): this {
    return this.emitBytes(littleEndian(values.map((v) => BigInt(this.#int(v, 2, 'dw'))), 2));
  }

  /** 32-bit values; a string stands for the address of that label. */
  dd(...values: readonly (number | bigint | string)[]): this {
    return this.#data(values, 4, 'dd');
  }

  /** 64-bit values; a string stands for the address of that label. */
  dq(...values: readonly (number | bigint | string)[]): this {
    return this.#data(values, 8, 'dq');
  }

  /** The bytes of a Latin-1 string, without a terminator (`asciz` adds one). */
  ascii(text: string): this {
    const out = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c > 0xff) throw fail('KERNSIM_ASM_RANGE', `ascii: character ${JSON.stringify(text[i])} is not Latin-1`);
      out[i] = c;
    }
    return this.emitBytes(out);
  }

  asciz(text: string): this {
    return this.ascii(text).db(0);
  }

  /** Pads with `fill` (default 0x90, a one-byte nop) to the next multiple of `n` (a power of two). */
  align(n: number, fill = 0x90): this {
    if (!Number.isInteger(n) || n < 1 || (n & (n - 1)) !== 0) throw fail('KERNSIM_ASM_RANGE', `align: ${String(n)} is not a power of two`);
    this.#items.push({ t: 'align', n, fill: this.#int(fill, 1, 'align fill') });
    return this;
  }

  /** `n` bytes of `fill`. */
  space(n: number, fill = 0): this {
    if (!Number.isInteger(n) || n < 0) throw fail('KERNSIM_ASM_RANGE', `space: ${String(n)} is not a byte count`);
    return this.emitBytes(new Uint8Array(n).fill(this.#int(fill, 1, 'space fill')));
  }

  /** Calls `body` `count` times (like gas `.rept`). */
  times(count: number, body: (a: this, i: number) => void): this {
    for (let i = 0; i < count; i++) body(this, i);
    return this;
  }

  // ---- prefixes --------------------------------------------------------------

  /** Adds a `lock` prefix to the next instruction (which must be a read-modify-write on memory). */
  lock(): this {
    this.#lock = true;
    return this;
  }

  /** Adds a `rep` prefix to the next instruction (a string operation). */
  rep(): this {
    this.#rep = true;
    return this;
  }

  // ---- assembling ------------------------------------------------------------

  /** Lays the code out at `origin` (relaxing jumps), resolves labels and returns the bytes. */
  assemble(): AssembledCode {
    if (this.#lock || this.#rep) throw fail('KERNSIM_ASM_BAD_OPERANDS', 'a lock/rep prefix is not followed by an instruction');
    this.#checkReferences();
    return layout(this.#items, this.origin, this.bitness);
  }

  // ---- for the mnemonics (Assembler) -----------------------------------------

  /** Appends one instruction: its bytes now when they cannot move, else a sized item for layout. */
  protected emitForm(form: Form, source?: string): this {
    const lock = this.#lock;
    this.#lock = false;
    if (this.#rep) {
      this.#rep = false;
      throw fail('KERNSIM_ASM_BAD_OPERANDS', 'rep applies only to string instructions (movs*, stos*)');
    }
    const what = source ?? 'instruction';
    if (lock && !form.lockable) throw fail('KERNSIM_ASM_BAD_OPERANDS', 'lock applies only to read-modify-write instructions with a memory destination');
    if (form.labels.length === 0 && !form.positional) return this.emitBytes(encodeFixed(form, lock, what, this.bitness));
    const size = encodeForm(form, SIZING, lock, what, this.bitness).length;
    this.#items.push({ t: 'insn', size, form, lock, source: what });
    return this;
  }

  /** A direct jump or call to a label or an absolute address; its size is settled by layout. */
  protected emitBranch(op: number, mnemonic: string, target: string | bigint | number, size?: BranchSize): this {
    this.noPrefix(mnemonic);
    const t = typeof target === 'number' ? BigInt(target) : target;
    if (typeof t === 'bigint') checkWidth(t, this.bitness === 64 ? 8 : 4, mnemonic);
    this.#items.push({ t: 'branch', op, target: t, size, source: `${mnemonic} ${typeof t === 'string' ? t : `0x${t.toString(16)}`}` });
    return this;
  }

  /** Reads and clears a pending rep prefix (only string instructions take one). */
  protected takeRep(): boolean {
    const rep = this.#rep;
    this.#rep = false;
    return rep;
  }

  protected emitBytes(bytes: Uint8Array): this {
    this.noPrefix('data');
    const last = this.#items[this.#items.length - 1];
    // Coalesce runs of fixed bytes so layout passes stay short for long straight-line code.
    if (last?.t === 'bytes' && last.bytes.length < 256) {
      const merged = new Uint8Array(last.bytes.length + bytes.length);
      merged.set(last.bytes);
      merged.set(bytes, last.bytes.length);
      this.#items[this.#items.length - 1] = { t: 'bytes', bytes: merged };
    } else this.#items.push({ t: 'bytes', bytes });
    return this;
  }

  #data(values: readonly (number | bigint | string)[], width: 4 | 8, what: string): this {
    for (const v of values) {
      if (typeof v === 'string') {
        this.noPrefix(what);
        this.#items.push({ t: 'ref', width, label: v, addend: 0n });
      } else this.emitBytes(littleEndian([checkWidth(BigInt(v), width, what)], width));
    }
    return this;
  }

  protected noPrefix(what: string): void {
    if (this.#lock || this.#rep) {
      this.#lock = false;
      this.#rep = false;
      throw fail('KERNSIM_ASM_BAD_OPERANDS', `a lock/rep prefix cannot apply to ${what}`);
    }
  }

  protected onlyIn(bitness: Bitness, what: string): void {
    if (this.bitness !== bitness) throw fail('KERNSIM_ASM_BAD_OPERANDS', `${what} exists only in ${String(bitness)}-bit mode`);
  }

  #int(v: number, width: number, what: string): number {
    if (!Number.isInteger(v)) throw fail('KERNSIM_ASM_RANGE', `${what}: ${String(v)} is not an integer`);
    return Number(checkWidth(BigInt(v), width, what) & ((1n << BigInt(width * 8)) - 1n));
  }

  #checkReferences(): void {
    const missing = new Set<string>();
    const need = (l: string): void => {
      if (!this.#defined.has(l)) missing.add(l);
    };
    for (const item of this.#items) {
      if (item.t === 'insn') item.form.labels.forEach(need);
      else if (item.t === 'branch' && typeof item.target === 'string') need(item.target);
      else if (item.t === 'ref') need(item.label);
    }
    if (missing.size > 0) {
      throw fail('KERNSIM_ASM_UNDEFINED_LABEL', `undefined label${missing.size > 1 ? 's' : ''}: ${[...missing].join(', ')}`);
    }
  }
}
