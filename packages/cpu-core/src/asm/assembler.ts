import { AsmError } from './errors.js';
import type { AsmErrorCode } from './errors.js';
import * as F from './forms.js';
import type { Form, Src } from './forms.js';
import type { Bitness } from './iced.js';
import { CALL, JMP, SIZING, checkWidth, encodeFixed, encodeForm, layout, littleEndian } from './layout.js';
import type { AssembledCode, BranchSize, Item } from './layout.js';
import { describe, isMem, isReg } from './operands.js';
import type { ImmLike, Mem, Reg } from './operands.js';

export type { AssembledCode, BranchSize } from './layout.js';

export interface AssemblerOptions {
  readonly bitness: Bitness;
  /** Address of the first byte. */
  readonly origin: bigint;
}

/** A branch or call target: a label, an absolute address, or (indirect) a register or memory operand. */
export type Target = string | bigint | number | Reg | Mem;

function fail(code: AsmErrorCode, message: string): AsmError {
  return new AsmError(code, message);
}

/**
 * A typed x86 assembler over iced-x86's encoder. Operands are in Intel order
 * (destination first): `a.mov(rbp, rsp)` is AT&T `mov %rsp,%rbp`. Encodings match
 * what GNU as picks by default (shortest immediate and accumulator forms, jumps
 * relaxed from short to near only when needed).
 */
export class Assembler {
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
    return this.#bytes(Uint8Array.from(out));
  }

  dw(...values: readonly number[]): this {
    return this.#bytes(littleEndian(values.map((v) => BigInt(this.#int(v, 2, 'dw'))), 2));
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
    return this.#bytes(out);
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
    return this.#bytes(new Uint8Array(n).fill(this.#int(fill, 1, 'space fill')));
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

  // ---- data movement ---------------------------------------------------------

  mov(dst: Reg | Mem, src: Src): this {
    return this.#emit(F.mov(dst, src, this.bitness));
  }
  /** mov with a 64-bit immediate (`movabs $imm64, %reg`). */
  movabs(dst: Reg, src: ImmLike): this {
    return this.#emit(F.movabs(dst, src, this.bitness));
  }
  movzx(dst: Reg, src: Reg | Mem): this {
    return this.#emit(F.extend('Movzx', dst, src, this.bitness));
  }
  movsx(dst: Reg, src: Reg | Mem): this {
    return this.#emit(F.extend('Movsx', dst, src, this.bitness));
  }
  lea(dst: Reg, src: Mem): this {
    return this.#emit(F.lea(dst, src, this.bitness));
  }
  push(src: Reg | Mem | ImmLike): this {
    return this.#emit(F.pushPop('Push', src, this.bitness));
  }
  pop(dst: Reg | Mem): this {
    return this.#emit(F.pushPop('Pop', dst, this.bitness));
  }
  /** 64-bit only spelling of `push`. */
  pushq(src: Reg | Mem | ImmLike): this {
    this.#only(64, 'pushq');
    return this.push(src);
  }
  /** 64-bit only spelling of `pop`. */
  popq(dst: Reg | Mem): this {
    this.#only(64, 'popq');
    return this.pop(dst);
  }
  xchg(a: Reg | Mem, b: Reg | Mem): this {
    return this.#emit(F.exchange('Xchg', a, b, this.bitness));
  }
  cmpxchg(dst: Reg | Mem, src: Reg): this {
    return this.#emit(F.exchange('Cmpxchg', dst, src, this.bitness));
  }
  xadd(dst: Reg | Mem, src: Reg): this {
    return this.#emit(F.exchange('Xadd', dst, src, this.bitness));
  }

  // ---- arithmetic and logic --------------------------------------------------

  add(dst: Reg | Mem, src: Src): this {
    return this.#emit(F.alu('Add', dst, src, this.bitness));
  }
  sub(dst: Reg | Mem, src: Src): this {
    return this.#emit(F.alu('Sub', dst, src, this.bitness));
  }
  /** add with carry. */
  adc(dst: Reg | Mem, src: Src): this {
    return this.#emit(F.alu('Adc', dst, src, this.bitness));
  }
  /** subtract with borrow. */
  sbb(dst: Reg | Mem, src: Src): this {
    return this.#emit(F.alu('Sbb', dst, src, this.bitness));
  }
  and(dst: Reg | Mem, src: Src): this {
    return this.#emit(F.alu('And', dst, src, this.bitness));
  }
  or(dst: Reg | Mem, src: Src): this {
    return this.#emit(F.alu('Or', dst, src, this.bitness));
  }
  xor(dst: Reg | Mem, src: Src): this {
    return this.#emit(F.alu('Xor', dst, src, this.bitness));
  }
  cmp(dst: Reg | Mem, src: Src): this {
    return this.#emit(F.alu('Cmp', dst, src, this.bitness));
  }
  test(dst: Reg | Mem, src: Src): this {
    return this.#emit(F.test(dst, src, this.bitness));
  }
  inc(dst: Reg | Mem): this {
    return this.#emit(F.unary('Inc', dst, this.bitness));
  }
  dec(dst: Reg | Mem): this {
    return this.#emit(F.unary('Dec', dst, this.bitness));
  }
  neg(dst: Reg | Mem): this {
    return this.#emit(F.unary('Neg', dst, this.bitness));
  }
  not(dst: Reg | Mem): this {
    return this.#emit(F.unary('Not', dst, this.bitness));
  }
  /** Shift by 1 (default), an immediate count, or `%cl`. */
  shl(dst: Reg | Mem, count?: Reg | ImmLike): this {
    return this.#emit(F.shift('Shl', dst, count, this.bitness));
  }
  shr(dst: Reg | Mem, count?: Reg | ImmLike): this {
    return this.#emit(F.shift('Shr', dst, count, this.bitness));
  }
  sar(dst: Reg | Mem, count?: Reg | ImmLike): this {
    return this.#emit(F.shift('Sar', dst, count, this.bitness));
  }
  rol(dst: Reg | Mem, count?: Reg | ImmLike): this {
    return this.#emit(F.shift('Rol', dst, count, this.bitness));
  }
  ror(dst: Reg | Mem, count?: Reg | ImmLike): this {
    return this.#emit(F.shift('Ror', dst, count, this.bitness));
  }

  // ---- control flow ----------------------------------------------------------

  jmp(target: Target, size?: BranchSize): this {
    return this.#branch(JMP, 'jmp', target, size);
  }
  call(target: Target): this {
    return this.#branch(CALL, 'call', target);
  }
  /** Conditional jump by condition name (`'e'`, `'ne'`, `'a'`, …), as `j<cc>`. */
  j(cc: Condition, target: string | bigint | number, size?: BranchSize): this {
    const n = CONDITIONS[cc];
    return this.#branch(n, `j${cc}`, target, size);
  }
  jo(t: string | bigint | number, size?: BranchSize): this { return this.j('o', t, size); }
  jno(t: string | bigint | number, size?: BranchSize): this { return this.j('no', t, size); }
  jb(t: string | bigint | number, size?: BranchSize): this { return this.j('b', t, size); }
  jc(t: string | bigint | number, size?: BranchSize): this { return this.j('c', t, size); }
  jnae(t: string | bigint | number, size?: BranchSize): this { return this.j('nae', t, size); }
  jae(t: string | bigint | number, size?: BranchSize): this { return this.j('ae', t, size); }
  jnb(t: string | bigint | number, size?: BranchSize): this { return this.j('nb', t, size); }
  jnc(t: string | bigint | number, size?: BranchSize): this { return this.j('nc', t, size); }
  je(t: string | bigint | number, size?: BranchSize): this { return this.j('e', t, size); }
  jz(t: string | bigint | number, size?: BranchSize): this { return this.j('z', t, size); }
  jne(t: string | bigint | number, size?: BranchSize): this { return this.j('ne', t, size); }
  jnz(t: string | bigint | number, size?: BranchSize): this { return this.j('nz', t, size); }
  jbe(t: string | bigint | number, size?: BranchSize): this { return this.j('be', t, size); }
  jna(t: string | bigint | number, size?: BranchSize): this { return this.j('na', t, size); }
  ja(t: string | bigint | number, size?: BranchSize): this { return this.j('a', t, size); }
  jnbe(t: string | bigint | number, size?: BranchSize): this { return this.j('nbe', t, size); }
  js(t: string | bigint | number, size?: BranchSize): this { return this.j('s', t, size); }
  jns(t: string | bigint | number, size?: BranchSize): this { return this.j('ns', t, size); }
  jp(t: string | bigint | number, size?: BranchSize): this { return this.j('p', t, size); }
  jpe(t: string | bigint | number, size?: BranchSize): this { return this.j('pe', t, size); }
  jnp(t: string | bigint | number, size?: BranchSize): this { return this.j('np', t, size); }
  jpo(t: string | bigint | number, size?: BranchSize): this { return this.j('po', t, size); }
  jl(t: string | bigint | number, size?: BranchSize): this { return this.j('l', t, size); }
  jnge(t: string | bigint | number, size?: BranchSize): this { return this.j('nge', t, size); }
  jge(t: string | bigint | number, size?: BranchSize): this { return this.j('ge', t, size); }
  jnl(t: string | bigint | number, size?: BranchSize): this { return this.j('nl', t, size); }
  jle(t: string | bigint | number, size?: BranchSize): this { return this.j('le', t, size); }
  jng(t: string | bigint | number, size?: BranchSize): this { return this.j('ng', t, size); }
  jg(t: string | bigint | number, size?: BranchSize): this { return this.j('g', t, size); }
  jnle(t: string | bigint | number, size?: BranchSize): this { return this.j('nle', t, size); }

  /** Near return, optionally popping `bytes` more. */
  ret(bytes?: ImmLike): this {
    if (bytes === undefined) return this.#emit(F.plain('ret', { 32: 'Retnd', 64: 'Retnq' }, this.bitness));
    return this.#emit(F.withImm('ret', this.bitness === 64 ? 'Retnq_imm16' : 'Retnd_imm16', bytes, 0xffff));
  }
  /** `iret` with the default 32-bit operand size (`cf`), in both modes. */
  iret(): this { return this.#emit(F.plain('iret', { 32: 'Iretd', 64: 'Iretd' }, this.bitness)); }
  iretd(): this { return this.iret(); }
  iretq(): this { return this.#emit(F.plain('iretq', { 64: 'Iretq' }, this.bitness)); }
  int3(): this { return this.#emit(F.plain('int3', { 32: 'Int3', 64: 'Int3' }, this.bitness)); }
  /** `int $n` (always the two-byte `cd ib` form, as gas does for `int $3`). */
  int(vector: ImmLike): this { return this.#emit(F.withImm('int', 'Int_imm8', vector, 0xff)); }
  ud2(): this { return this.#emit(F.plain('ud2', { 32: 'Ud2', 64: 'Ud2' }, this.bitness)); }
  syscall(): this { return this.#emit(F.plain('syscall', { 64: 'Syscall' }, this.bitness)); }
  sysretq(): this { return this.#emit(F.plain('sysretq', { 64: 'Sysretq' }, this.bitness)); }

  // ---- system ----------------------------------------------------------------

  cli(): this { return this.#emit(F.plain('cli', { 32: 'Cli', 64: 'Cli' }, this.bitness)); }
  sti(): this { return this.#emit(F.plain('sti', { 32: 'Sti', 64: 'Sti' }, this.bitness)); }
  hlt(): this { return this.#emit(F.plain('hlt', { 32: 'Hlt', 64: 'Hlt' }, this.bitness)); }
  pause(): this { return this.#emit(F.plain('pause', { 32: 'Pause', 64: 'Pause' }, this.bitness)); }
  cpuid(): this { return this.#emit(F.plain('cpuid', { 32: 'Cpuid', 64: 'Cpuid' }, this.bitness)); }
  swapgs(): this { return this.#emit(F.plain('swapgs', { 64: 'Swapgs' }, this.bitness)); }
  rdmsr(): this { return this.#emit(F.plain('rdmsr', { 32: 'Rdmsr', 64: 'Rdmsr' }, this.bitness)); }
  wrmsr(): this { return this.#emit(F.plain('wrmsr', { 32: 'Wrmsr', 64: 'Wrmsr' }, this.bitness)); }
  std(): this { return this.#emit(F.plain('std', { 32: 'Std', 64: 'Std' }, this.bitness)); }
  cld(): this { return this.#emit(F.plain('cld', { 32: 'Cld', 64: 'Cld' }, this.bitness)); }
  clc(): this { return this.#emit(F.plain('clc', { 32: 'Clc', 64: 'Clc' }, this.bitness)); }
  stc(): this { return this.#emit(F.plain('stc', { 32: 'Stc', 64: 'Stc' }, this.bitness)); }
  cmc(): this { return this.#emit(F.plain('cmc', { 32: 'Cmc', 64: 'Cmc' }, this.bitness)); }
  /** pushfq in 64-bit mode, pushfl (pushfd) in 32-bit mode. */
  pushf(): this { return this.#emit(F.plain('pushf', { 32: 'Pushfd', 64: 'Pushfq' }, this.bitness)); }
  popf(): this { return this.#emit(F.plain('popf', { 32: 'Popfd', 64: 'Popfq' }, this.bitness)); }
  pushfq(): this { return this.#emit(F.plain('pushfq', { 64: 'Pushfq' }, this.bitness)); }
  popfq(): this { return this.#emit(F.plain('popfq', { 64: 'Popfq' }, this.bitness)); }
  pushfd(): this { return this.#emit(F.plain('pushfd', { 32: 'Pushfd' }, this.bitness)); }
  popfd(): this { return this.#emit(F.plain('popfd', { 32: 'Popfd' }, this.bitness)); }
  /** Loads IDTR from a pseudo-descriptor (2-byte limit, then an 8-byte base in 64-bit mode or 4-byte in 32-bit). */
  lidt(src: Mem): this { return this.#emit(F.memoryOnly('lidt', { 32: 'Lidt_m1632', 64: 'Lidt_m1664' }, src, this.bitness)); }
  /** Stores IDTR to a pseudo-descriptor. */
  sidt(dst: Mem): this { return this.#emit(F.memoryOnly('sidt', { 32: 'Sidt_m1632', 64: 'Sidt_m1664' }, dst, this.bitness)); }
  invlpg(m: Mem): this { return this.#emit(F.memoryOnly('invlpg', { 32: 'Invlpg_m', 64: 'Invlpg_m' }, m, this.bitness)); }
  leave(): this { return this.#emit(F.plain('leave', { 32: 'Leaved', 64: 'Leaveq' }, this.bitness)); }
  rdtsc(): this { return this.#emit(F.plain('rdtsc', { 32: 'Rdtsc', 64: 'Rdtsc' }, this.bitness)); }
  mfence(): this { return this.#emit(F.plain('mfence', { 32: 'Mfence', 64: 'Mfence' }, this.bitness)); }
  out(port: Reg | ImmLike, src: Reg): this { return this.#emit(F.inOut('Out', port, src, this.bitness)); }
  in(dst: Reg, port: Reg | ImmLike): this { return this.#emit(F.inOut('In', port, dst, this.bitness)); }

  /** A nop of `size` bytes (1-9, the SDM's recommended forms; `nop(5)` is `0f 1f 44 00 00`). Longer sizes chain 9-byte nops. */
  nop(size = 1): this {
    if (!Number.isInteger(size) || size < 1) throw fail('KERNSIM_ASM_RANGE', `nop: size ${String(size)} must be a positive integer`);
    this.#noPrefix('nop');
    const out: number[] = [];
    for (let left = size; left > 0; left -= 9) out.push(...(F.NOPS[Math.min(left, 9)] ?? []));
    return this.#bytes(Uint8Array.from(out));
  }

  movsb(): this { return this.#string('movs', 1); }
  movsw(): this { return this.#string('movs', 2); }
  movsd(): this { return this.#string('movs', 4); }
  movsq(): this { return this.#string('movs', 8); }
  stosb(): this { return this.#string('stos', 1); }
  stosw(): this { return this.#string('stos', 2); }
  stosd(): this { return this.#string('stos', 4); }
  stosq(): this { return this.#string('stos', 8); }

  // ---- assembling ------------------------------------------------------------

  /** Lays the code out at `origin` (relaxing jumps), resolves labels and returns the bytes. */
  assemble(): AssembledCode {
    if (this.#lock || this.#rep) throw fail('KERNSIM_ASM_BAD_OPERANDS', 'a lock/rep prefix is not followed by an instruction');
    this.#checkReferences();
    return layout(this.#items, this.origin, this.bitness);
  }

  // ---- internals -------------------------------------------------------------

  #emit(form: Form, source?: string): this {
    const lock = this.#lock;
    this.#lock = false;
    if (this.#rep) {
      this.#rep = false;
      throw fail('KERNSIM_ASM_BAD_OPERANDS', 'rep applies only to string instructions (movs*, stos*)');
    }
    const what = source ?? 'instruction';
    if (lock && !form.lockable) throw fail('KERNSIM_ASM_BAD_OPERANDS', 'lock applies only to read-modify-write instructions with a memory destination');
    if (form.labels.length === 0 && !form.positional) return this.#bytes(encodeFixed(form, lock, what, this.bitness));
    const size = encodeForm(form, SIZING, lock, what, this.bitness).length;
    this.#items.push({ t: 'insn', size, form, lock, source: what });
    return this;
  }

  #branch(op: number, mnemonic: string, target: Target, size?: BranchSize): this {
    if (isReg(target) || isMem(target)) {
      if (op !== CALL && op !== JMP) throw fail('KERNSIM_ASM_BAD_OPERANDS', `${mnemonic}: conditional jumps take a label or an address`);
      return this.#emit(F.indirect(op === CALL ? 'Call' : 'Jmp', target, this.bitness), `${mnemonic} *${describe(target)}`);
    }
    this.#noPrefix(mnemonic);
    const t = typeof target === 'number' ? BigInt(target) : target;
    if (typeof t === 'bigint') checkWidth(t, this.bitness === 64 ? 8 : 4, mnemonic);
    this.#items.push({ t: 'branch', op, target: t, size, source: `${mnemonic} ${typeof t === 'string' ? t : `0x${t.toString(16)}`}` });
    return this;
  }

  #string(op: F.StringOp, size: 1 | 2 | 4 | 8): this {
    const rep = this.#rep;
    this.#rep = false;
    return this.#emit(F.stringOp(op, size, rep, this.bitness), op);
  }

  #bytes(bytes: Uint8Array): this {
    this.#noPrefix('data');
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
        this.#noPrefix(what);
        this.#items.push({ t: 'ref', width, label: v, addend: 0n });
      } else this.#bytes(littleEndian([checkWidth(BigInt(v), width, what)], width));
    }
    return this;
  }

  #noPrefix(what: string): void {
    if (this.#lock || this.#rep) {
      this.#lock = false;
      this.#rep = false;
      throw fail('KERNSIM_ASM_BAD_OPERANDS', `a lock/rep prefix cannot apply to ${what}`);
    }
  }

  #only(bitness: Bitness, what: string): void {
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

export const CONDITIONS = {
  o: 0, no: 1, b: 2, c: 2, nae: 2, ae: 3, nb: 3, nc: 3, e: 4, z: 4, ne: 5, nz: 5, be: 6, na: 6, a: 7, nbe: 7,
  s: 8, ns: 9, p: 10, pe: 10, np: 11, po: 11, l: 12, nge: 12, ge: 13, nl: 13, le: 14, ng: 14, g: 15, nle: 15,
} as const;

export type Condition = keyof typeof CONDITIONS;
