import { describe, expect, it } from 'vitest';
import { Assembler } from './assembler.js';
import { AsmError } from './errors.js';
import type { AsmErrorCode } from './errors.js';
import { byte, dword, imm, mem, qword, reg } from './operands.js';

const { rax, rbx, eax, rsp, al, cl } = reg;

function codeOf(fn: () => unknown): AsmErrorCode | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof AsmError) return e.code;
    throw e;
  }
  return undefined;
}

const at = (origin = 0x1000n, bitness: 32 | 64 = 64): Assembler => new Assembler({ bitness, origin });

describe('assembler errors', () => {
  it('lists every undefined label at assemble time', () => {
    const a = at().jmp('missing').lea(rax, mem(reg.rip, 'gone')).dq('nowhere');
    expect(() => a.assemble()).toThrow(/missing, gone, nowhere/);
    expect(codeOf(() => a.assemble())).toBe('KERNSIM_ASM_UNDEFINED_LABEL');
  });

  it('rejects a label defined twice', () => {
    expect(codeOf(() => at().label('x').ret().label('x'))).toBe('KERNSIM_ASM_DUPLICATE_LABEL');
  });

  it.each([
    ['two memory operands', (a: Assembler) => a.mov(qword(rax), qword(rbx))],
    ['an ambiguous operand size', (a: Assembler) => a.mov(mem(rax), 1)],
    ['mismatched register sizes', (a: Assembler) => a.mov(rax, eax)],
    ['a memory size that disagrees with the register', (a: Assembler) => a.add(rax, dword(rbx))],
    ['lock on mov', (a: Assembler) => a.lock().mov(qword(rax), rbx)],
    ['lock on a register destination', (a: Assembler) => a.lock().add(rax, 1)],
    ['rep on a non-string instruction', (a: Assembler) => a.rep().add(rax, 1)],
    ['%rsp as an index', (a: Assembler) => a.mov(rax, qword(rbx, rsp, 2))],
    ['a 32-bit address register in 64-bit code', (a: Assembler) => a.mov(rax, qword(eax))],
    ['a shift count in a register other than %cl', (a: Assembler) => a.shl(rax, reg.dl)],
    ['an immediate into a segment register', (a: Assembler) => a.mov(reg.ds, 0x18)],
    ['a control register with a memory operand', (a: Assembler) => a.mov(reg.cr3, qword(rax))],
    ['pop of an immediate', (a: Assembler) => a.pop(imm(1) as unknown as typeof rax)],
    ['a port register other than %dx', (a: Assembler) => a.out(reg.cx, al)],
    ['%ah together with a REX register', (a: Assembler) => a.mov(reg.ah, reg.sil)],
    ['movzx from a larger source', (a: Assembler) => a.movzx(reg.ax, eax)],
    ['pushfd in 64-bit mode', (a: Assembler) => a.pushfd()],
    ['a conditional jump through a register', (a: Assembler) => a.j('e', rax as unknown as string)],
    ['a dangling lock prefix', (a: Assembler) => a.lock().assemble()],
  ])('rejects %s as KERNSIM_ASM_BAD_OPERANDS', (_name, fn) => {
    expect(codeOf(() => fn(at()))).toBe('KERNSIM_ASM_BAD_OPERANDS');
  });

  it.each([
    ['an immediate wider than 32 bits in add', (a: Assembler) => a.add(eax, 0x1_0000_0000)],
    ['a 64-bit immediate in add', (a: Assembler) => a.add(rax, 0x1_0000_0000n)],
    ['a byte immediate of 256', (a: Assembler) => a.mov(byte(rax), 256)],
    ['db 256', (a: Assembler) => a.db(256)],
    ['a shift count of 256', (a: Assembler) => a.shl(rax, 256)],
    ['int 256', (a: Assembler) => a.int(256)],
    ['a port above 255', (a: Assembler) => a.out(0x3f8, al)],
    ['align by a non-power of two', (a: Assembler) => a.align(12)],
    ['a displacement beyond 32 bits', (a: Assembler) => a.mov(rax, qword(rbx, 0x1_0000_0000n))],
    ['a call more than 2 GiB away', () => at(0xffffffff81000000n).call(0x1_0000_0000n).assemble()],
    ['a label immediate that does not sign-extend', () => at(0x1_0000_0000n).mov(rax, imm('x')).label('x').assemble()],
  ])('rejects %s as KERNSIM_ASM_RANGE', (_name, fn) => {
    expect(codeOf(() => fn(at()))).toBe('KERNSIM_ASM_RANGE');
  });

  it('rejects bad options', () => {
    expect(codeOf(() => new Assembler({ bitness: 16 as 64, origin: 0n }))).toBe('KERNSIM_ASM_BAD_OPTIONS');
    expect(codeOf(() => new Assembler({ bitness: 32, origin: 0x1_0000_0000n }))).toBe('KERNSIM_ASM_BAD_OPTIONS');
  });

  it('says what it expected and what it found', () => {
    expect(() => at().mov(rax, eax)).toThrow(/mov %rax, %eax: operand sizes differ \(64 and 32 bits\)/);
    expect(() => at().shl(rax, cl).mov(qword(rax), qword(rbx))).toThrow(/two memory operands/);
  });
});
