import { CodeBuffer, fail } from './code-buffer.js';
import * as Fixed from './fixed-forms.js';
import type { StringOp } from './fixed-forms.js';
import type { Src } from './form.js';
import { CALL, JMP } from './layout.js';
import type { BranchSize } from './layout.js';
import * as Op from './operand-forms.js';
import { describe, isMem, isReg } from './operands.js';
import type { ImmLike, Mem, Reg } from './operands.js';

export type { AssemblerOptions } from './code-buffer.js';
export type { AssembledCode, BranchSize } from './layout.js';

/** A branch or call target: a label, an absolute address, or (indirect) a register or memory operand. */
export type Target = string | bigint | number | Reg | Mem;

/**
 * A typed x86 assembler over iced-x86's encoder. Operands are in Intel order
 * (destination first): `a.mov(rbp, rsp)` is AT&T `mov %rsp,%rbp`. Encodings match
 * what GNU as picks by default (shortest immediate and accumulator forms, jumps
 * relaxed from short to near only when needed).
 */
export class Assembler extends CodeBuffer {
  // ---- data movement ---------------------------------------------------------

  mov(dst: Reg | Mem, src: Src): this {
    return this.emitForm(Op.mov(dst, src, this.bitness));
  }
  /** mov with a 64-bit immediate (`movabs $imm64, %reg`). */
  movabs(dst: Reg, src: ImmLike): this {
    return this.emitForm(Op.movabs(dst, src, this.bitness));
  }
  movzx(dst: Reg, src: Reg | Mem): this {
    return this.emitForm(Op.extend('Movzx', dst, src, this.bitness));
  }
  movsx(dst: Reg, src: Reg | Mem): this {
    return this.emitForm(Op.extend('Movsx', dst, src, this.bitness));
  }
  lea(dst: Reg, src: Mem): this {
    return this.emitForm(Op.lea(dst, src, this.bitness));
  }
  push(src: Reg | Mem | ImmLike): this {
    return this.emitForm(Op.pushPop('Push', src, this.bitness));
  }
  pop(dst: Reg | Mem): this {
    return this.emitForm(Op.pushPop('Pop', dst, this.bitness));
  }
  /** 64-bit only spelling of `push`. */
  pushq(src: Reg | Mem | ImmLike): this {
    this.onlyIn(64, 'pushq');
    return this.push(src);
  }
  /** 64-bit only spelling of `pop`. */
  popq(dst: Reg | Mem): this {
    this.onlyIn(64, 'popq');
    return this.pop(dst);
  }
  xchg(a: Reg | Mem, b: Reg | Mem): this {
    return this.emitForm(Op.exchange('Xchg', a, b, this.bitness));
  }
  cmpxchg(dst: Reg | Mem, src: Reg): this {
    return this.emitForm(Op.exchange('Cmpxchg', dst, src, this.bitness));
  }
  xadd(dst: Reg | Mem, src: Reg): this {
    return this.emitForm(Op.exchange('Xadd', dst, src, this.bitness));
  }

  // ---- arithmetic and logic --------------------------------------------------

  add(dst: Reg | Mem, src: Src): this {
    return this.emitForm(Op.alu('Add', dst, src, this.bitness));
  }
  sub(dst: Reg | Mem, src: Src): this {
    return this.emitForm(Op.alu('Sub', dst, src, this.bitness));
  }
  /** add with carry. */
  adc(dst: Reg | Mem, src: Src): this {
    return this.emitForm(Op.alu('Adc', dst, src, this.bitness));
  }
  /** subtract with borrow. */
  sbb(dst: Reg | Mem, src: Src): this {
    return this.emitForm(Op.alu('Sbb', dst, src, this.bitness));
  }
  and(dst: Reg | Mem, src: Src): this {
    return this.emitForm(Op.alu('And', dst, src, this.bitness));
  }
  or(dst: Reg | Mem, src: Src): this {
    return this.emitForm(Op.alu('Or', dst, src, this.bitness));
  }
  xor(dst: Reg | Mem, src: Src): this {
    return this.emitForm(Op.alu('Xor', dst, src, this.bitness));
  }
  cmp(dst: Reg | Mem, src: Src): this {
    return this.emitForm(Op.alu('Cmp', dst, src, this.bitness));
  }
  test(dst: Reg | Mem, src: Src): this {
    return this.emitForm(Op.test(dst, src, this.bitness));
  }
  inc(dst: Reg | Mem): this {
    return this.emitForm(Op.unary('Inc', dst, this.bitness));
  }
  dec(dst: Reg | Mem): this {
    return this.emitForm(Op.unary('Dec', dst, this.bitness));
  }
  neg(dst: Reg | Mem): this {
    return this.emitForm(Op.unary('Neg', dst, this.bitness));
  }
  not(dst: Reg | Mem): this {
    return this.emitForm(Op.unary('Not', dst, this.bitness));
  }
  /** Shift by 1 (default), an immediate count, or `%cl`. */
  shl(dst: Reg | Mem, count?: Reg | ImmLike): this {
    return this.emitForm(Op.shift('Shl', dst, count, this.bitness));
  }
  shr(dst: Reg | Mem, count?: Reg | ImmLike): this {
    return this.emitForm(Op.shift('Shr', dst, count, this.bitness));
  }
  sar(dst: Reg | Mem, count?: Reg | ImmLike): this {
    return this.emitForm(Op.shift('Sar', dst, count, this.bitness));
  }
  rol(dst: Reg | Mem, count?: Reg | ImmLike): this {
    return this.emitForm(Op.shift('Rol', dst, count, this.bitness));
  }
  ror(dst: Reg | Mem, count?: Reg | ImmLike): this {
    return this.emitForm(Op.shift('Ror', dst, count, this.bitness));
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
    if (bytes === undefined) return this.emitForm(Fixed.plain('ret', { 32: 'Retnd', 64: 'Retnq' }, this.bitness));
    return this.emitForm(Fixed.withImm('ret', this.bitness === 64 ? 'Retnq_imm16' : 'Retnd_imm16', bytes, 0xffff));
  }
  /** `iret` with the default 32-bit operand size (`cf`), in both modes. */
  iret(): this { return this.emitForm(Fixed.plain('iret', { 32: 'Iretd', 64: 'Iretd' }, this.bitness)); }
  iretd(): this { return this.iret(); }
  iretq(): this { return this.emitForm(Fixed.plain('iretq', { 64: 'Iretq' }, this.bitness)); }
  int3(): this { return this.emitForm(Fixed.plain('int3', { 32: 'Int3', 64: 'Int3' }, this.bitness)); }
  /** `int $n` (always the two-byte `cd ib` form, as gas does for `int $3`). */
  int(vector: ImmLike): this { return this.emitForm(Fixed.withImm('int', 'Int_imm8', vector, 0xff)); }
  ud2(): this { return this.emitForm(Fixed.plain('ud2', { 32: 'Ud2', 64: 'Ud2' }, this.bitness)); }
  syscall(): this { return this.emitForm(Fixed.plain('syscall', { 64: 'Syscall' }, this.bitness)); }
  sysretq(): this { return this.emitForm(Fixed.plain('sysretq', { 64: 'Sysretq' }, this.bitness)); }

  // ---- system ----------------------------------------------------------------

  cli(): this { return this.emitForm(Fixed.plain('cli', { 32: 'Cli', 64: 'Cli' }, this.bitness)); }
  sti(): this { return this.emitForm(Fixed.plain('sti', { 32: 'Sti', 64: 'Sti' }, this.bitness)); }
  hlt(): this { return this.emitForm(Fixed.plain('hlt', { 32: 'Hlt', 64: 'Hlt' }, this.bitness)); }
  pause(): this { return this.emitForm(Fixed.plain('pause', { 32: 'Pause', 64: 'Pause' }, this.bitness)); }
  cpuid(): this { return this.emitForm(Fixed.plain('cpuid', { 32: 'Cpuid', 64: 'Cpuid' }, this.bitness)); }
  swapgs(): this { return this.emitForm(Fixed.plain('swapgs', { 64: 'Swapgs' }, this.bitness)); }
  rdmsr(): this { return this.emitForm(Fixed.plain('rdmsr', { 32: 'Rdmsr', 64: 'Rdmsr' }, this.bitness)); }
  wrmsr(): this { return this.emitForm(Fixed.plain('wrmsr', { 32: 'Wrmsr', 64: 'Wrmsr' }, this.bitness)); }
  std(): this { return this.emitForm(Fixed.plain('std', { 32: 'Std', 64: 'Std' }, this.bitness)); }
  cld(): this { return this.emitForm(Fixed.plain('cld', { 32: 'Cld', 64: 'Cld' }, this.bitness)); }
  clc(): this { return this.emitForm(Fixed.plain('clc', { 32: 'Clc', 64: 'Clc' }, this.bitness)); }
  stc(): this { return this.emitForm(Fixed.plain('stc', { 32: 'Stc', 64: 'Stc' }, this.bitness)); }
  cmc(): this { return this.emitForm(Fixed.plain('cmc', { 32: 'Cmc', 64: 'Cmc' }, this.bitness)); }
  /** pushfq in 64-bit mode, pushfl (pushfd) in 32-bit mode. */
  pushf(): this { return this.emitForm(Fixed.plain('pushf', { 32: 'Pushfd', 64: 'Pushfq' }, this.bitness)); }
  popf(): this { return this.emitForm(Fixed.plain('popf', { 32: 'Popfd', 64: 'Popfq' }, this.bitness)); }
  pushfq(): this { return this.emitForm(Fixed.plain('pushfq', { 64: 'Pushfq' }, this.bitness)); }
  popfq(): this { return this.emitForm(Fixed.plain('popfq', { 64: 'Popfq' }, this.bitness)); }
  pushfd(): this { return this.emitForm(Fixed.plain('pushfd', { 32: 'Pushfd' }, this.bitness)); }
  popfd(): this { return this.emitForm(Fixed.plain('popfd', { 32: 'Popfd' }, this.bitness)); }
  /** Loads IDTR from a pseudo-descriptor (2-byte limit, then an 8-byte base in 64-bit mode or 4-byte in 32-bit). */
  lidt(src: Mem): this { return this.emitForm(Fixed.memoryOnly('lidt', { 32: 'Lidt_m1632', 64: 'Lidt_m1664' }, src, this.bitness)); }
  /** Stores IDTR to a pseudo-descriptor. */
  sidt(dst: Mem): this { return this.emitForm(Fixed.memoryOnly('sidt', { 32: 'Sidt_m1632', 64: 'Sidt_m1664' }, dst, this.bitness)); }
  invlpg(m: Mem): this { return this.emitForm(Fixed.memoryOnly('invlpg', { 32: 'Invlpg_m', 64: 'Invlpg_m' }, m, this.bitness)); }
  leave(): this { return this.emitForm(Fixed.plain('leave', { 32: 'Leaved', 64: 'Leaveq' }, this.bitness)); }
  rdtsc(): this { return this.emitForm(Fixed.plain('rdtsc', { 32: 'Rdtsc', 64: 'Rdtsc' }, this.bitness)); }
  mfence(): this { return this.emitForm(Fixed.plain('mfence', { 32: 'Mfence', 64: 'Mfence' }, this.bitness)); }
  out(port: Reg | ImmLike, src: Reg): this { return this.emitForm(Fixed.inOut('Out', port, src, this.bitness)); }
  in(dst: Reg, port: Reg | ImmLike): this { return this.emitForm(Fixed.inOut('In', port, dst, this.bitness)); }

  /** A nop of `size` bytes (1-9, the SDM's recommended forms; `nop(5)` is `0f 1f 44 00 00`). Longer sizes chain 9-byte nops. */
  nop(size = 1): this {
    if (!Number.isInteger(size) || size < 1) throw fail('KERNSIM_ASM_RANGE', `nop: size ${String(size)} must be a positive integer`);
    this.noPrefix('nop');
    const out: number[] = [];
    for (let left = size; left > 0; left -= 9) out.push(...(Fixed.NOPS[Math.min(left, 9)] ?? []));
    return this.emitBytes(Uint8Array.from(out));
  }

  movsb(): this { return this.#string('movs', 1); }
  movsw(): this { return this.#string('movs', 2); }
  movsd(): this { return this.#string('movs', 4); }
  movsq(): this { return this.#string('movs', 8); }
  stosb(): this { return this.#string('stos', 1); }
  stosw(): this { return this.#string('stos', 2); }
  stosd(): this { return this.#string('stos', 4); }
  stosq(): this { return this.#string('stos', 8); }

  // ---- internals -------------------------------------------------------------

  #branch(op: number, mnemonic: string, target: Target, size?: BranchSize): this {
    if (isReg(target) || isMem(target)) {
      if (op !== CALL && op !== JMP) throw fail('KERNSIM_ASM_BAD_OPERANDS', `${mnemonic}: conditional jumps take a label or an address`);
      return this.emitForm(Op.indirect(op === CALL ? 'Call' : 'Jmp', target, this.bitness), `${mnemonic} *${describe(target)}`);
    }
    return this.emitBranch(op, mnemonic, target, size);
  }

  #string(op: StringOp, size: 1 | 2 | 4 | 8): this {
    const rep = this.takeRep();
    return this.emitForm(Fixed.stringOp(op, size, rep, this.bitness), op);
  }
}

export const CONDITIONS = {
  o: 0, no: 1, b: 2, c: 2, nae: 2, ae: 3, nb: 3, nc: 3, e: 4, z: 4, ne: 5, nz: 5, be: 6, na: 6, a: 7, nbe: 7,
  s: 8, ns: 9, p: 10, pe: 10, np: 11, po: 11, l: 12, nge: 12, ge: 13, nl: 13, le: 14, ng: 14, g: 15, nle: 15,
} as const;

export type Condition = keyof typeof CONDITIONS;
