import { describe, expect, it } from 'vitest';
import { Assembler } from './assembler.js';
import { disassemble } from './disassembler.js';
import { byte, dword, imm, mem, reg } from './operands.js';

const { eax, ebx, ecx, edx, esp, ebp, esi, ax, al, dx, ds, es, fs, gs, ss, cr2, cr3 } = reg;

type Case = readonly [text: string, emit: (a: Assembler) => unknown, bytes: string];

const ORIGIN = 0xc1000000n;

const cases32: readonly Case[] = [
  ['push %ebp', (a) => a.push(ebp), '55'],
  ['mov %esp,%ebp', (a) => a.mov(ebp, esp), '89 e5'],
  ['pop %esi', (a) => a.pop(esi), '5e'],
  ['push $0x0', (a) => a.push(imm(0)), '6a 00'],
  ['push $0x1000', (a) => a.push(0x1000), '68 00 10 00 00'],
  ['pushl 0x4(%esp)', (a) => a.push(dword(esp, 4)), 'ff 74 24 04'],
  ['pushf', (a) => a.pushfd(), '9c'],
  ['popf', (a) => a.popf(), '9d'],
  ['push %ds', (a) => a.push(ds), '1e'],
  ['pop %ds', (a) => a.pop(ds), '1f'],
  ['push %es', (a) => a.push(es), '06'],
  ['pop %es', (a) => a.pop(es), '07'],
  ['push %ss', (a) => a.push(ss), '16'],
  ['push %fs', (a) => a.push(fs), '0f a0'],
  ['pop %gs', (a) => a.pop(gs), '0f a9'],
  ['inc %eax', (a) => a.inc(eax), '40'],
  ['dec %ecx', (a) => a.dec(ecx), '49'],
  ['inc %ax', (a) => a.inc(ax), '66 40'],
  ['incl (%eax)', (a) => a.inc(dword(eax)), 'ff 00'],
  ['mov 0x1234,%eax', (a) => a.mov(eax, dword(0x1234)), 'a1 34 12 00 00'],
  ['mov %eax,0x1234', (a) => a.mov(mem(0x1234), eax), 'a3 34 12 00 00'],
  ['mov %fs:0x1234,%eax', (a) => a.mov(eax, dword.fs(0x1234)), '64 a1 34 12 00 00'],
  ['mov 0x1234,%ebx', (a) => a.mov(ebx, mem(0x1234)), '8b 1d 34 12 00 00'],
  ['mov %al,0x10', (a) => a.mov(byte(0x10), al), 'a2 10 00 00 00'],
  ['mov 0x8(%esp),%edx', (a) => a.mov(edx, dword(esp, 8)), '8b 54 24 08'],
  ['mov $0xc1000000,%eax', (a) => a.mov(eax, 0xc1000000), 'b8 00 00 00 c1'],
  ['movl $0xffffffff,(%ebx)', (a) => a.mov(dword(ebx), -1), 'c7 03 ff ff ff ff'],
  ['mov %cr2,%eax', (a) => a.mov(eax, cr2), '0f 20 d0'],
  ['mov %eax,%cr3', (a) => a.mov(cr3, eax), '0f 22 d8'],
  ['lea 0x0(,%eax,4),%ecx', (a) => a.lea(ecx, mem(undefined, eax, 4)), '8d 0c 85 00 00 00 00'],
  ['add $0x4,%esp', (a) => a.add(esp, 4), '83 c4 04'],
  ['cmp $0x1000,%eax', (a) => a.cmp(eax, 0x1000), '3d 00 10 00 00'],
  ['cmpl $0x0,0x4(%esp)', (a) => a.cmp(dword(esp, 4), 0), '83 7c 24 04 00'],
  ['test %eax,%eax', (a) => a.test(eax, eax), '85 c0'],
  ['shr $0x2,%ecx', (a) => a.shr(ecx, 2), 'c1 e9 02'],
  ['call *%eax', (a) => a.call(eax), 'ff d0'],
  ['jmp *(%eax)', (a) => a.jmp(dword(eax)), 'ff 20'],
  ['call c1002000', (a) => a.call(0xc1002000), 'e8 fb 1f 00 00'],
  ['ret', (a) => a.ret(), 'c3'],
  ['iret', (a) => a.iret(), 'cf'],
  ['int3', (a) => a.int3(), 'cc'],
  ['lock cmpxchg %ecx,(%edx)', (a) => a.lock().cmpxchg(dword(edx), ecx), 'f0 0f b1 0a'],
  ['xchg %eax,%ebx', (a) => a.xchg(eax, ebx), '93'],
  ['rep movsb %ds:(%esi),%es:(%edi)', (a) => a.rep().movsb(), 'f3 a4'],
  ['rep movsl %ds:(%esi),%es:(%edi)', (a) => a.rep().movsd(), 'f3 a5'],
  ['rep stos %eax,%es:(%edi)', (a) => a.rep().stosd(), 'f3 ab'],
  ['out %al,(%dx)', (a) => a.out(dx, al), 'ee'],
  ['cpuid', (a) => a.cpuid(), '0f a2'],
  ['nopl 0x0(%eax,%eax,1)', (a) => a.nop(5), '0f 1f 44 00 00'],
  ['lidt (%eax)', (a) => a.lidt(mem(eax)), '0f 01 18'],
  ['leave', (a) => a.leave(), 'c9'],
];

const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');

describe('32-bit encodings', () => {
  it.each(cases32.map((c) => [c[0], c] as const))('%s', (_name, [text, emit, bytes]) => {
    const a = new Assembler({ bitness: 32, origin: ORIGIN });
    emit(a);
    const code = a.assemble();
    expect(hex(code.bytes)).toBe(bytes);
    const lines = disassemble(code.bytes, { origin: ORIGIN, bitness: 32 });
    expect(lines).toHaveLength(1);
    expect(lines[0]?.text).toBe(text);
  });

  it.each([
    ['a 64-bit register', (a: Assembler) => a.mov(reg.rax, 1)],
    ['r8d', (a: Assembler) => a.mov(reg.r8d, eax)],
    ['%sil', (a: Assembler) => a.mov(reg.sil, al)],
    ['pushfq', (a: Assembler) => a.pushfq()],
    ['movsq', (a: Assembler) => a.movsq()],
    ['swapgs', (a: Assembler) => a.swapgs()],
    ['iretq', (a: Assembler) => a.iretq()],
    ['rip-relative memory', (a: Assembler) => a.lea(eax, mem(reg.rip, 'x'))],
    ['a 64-bit address register', (a: Assembler) => a.mov(eax, dword(reg.rax))],
  ])('rejects %s as KERNSIM_ASM_BAD_OPERANDS', (_name, emit) => {
    const a = new Assembler({ bitness: 32, origin: ORIGIN });
    expect(() => emit(a)).toThrow(expect.objectContaining({ code: 'KERNSIM_ASM_BAD_OPERANDS' }));
  });
});
