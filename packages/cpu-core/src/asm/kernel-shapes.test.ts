import { describe, expect, it } from 'vitest';
import { Assembler } from './assembler.js';
import { disassemble } from './disassembler.js';
import { dword, imm, mem, qword, reg } from './operands.js';

const { rsp, rdx, rdi, rsi, ebx, rax, esp, eax, ecx, edx } = reg;
const KERNEL_CS = 0x10;
const EXCEPTION_STKSZ = 0x1000;

/**
 * The shape of the 3.3 x86_64 NMI entry (nested-NMI detection, the three frame copies,
 * the repeat trampoline), written with this assembler to show every construct it needs
 * is expressible. Our own transcription, not the kernel's source.
 */
function nmiEntry64(): Assembler {
  const a = new Assembler({ bitness: 64, origin: 0xffffffff81600000n });
  a.label('nmi');
  a.push(rdx);
  a.cmp(qword(rsp, 16), imm(KERNEL_CS)).jne('first_nmi');
  a.cmp(qword(rsp, -8), 1).je('nested_nmi');
  a.lea(rdx, mem(rsp, 6 * 8)).cmp(qword(rsp, 4 * 8), rdx).ja('first_nmi');
  a.sub(rdx, EXCEPTION_STKSZ).cmp(qword(rsp, 4 * 8), rdx).jb('first_nmi');
  a.label('nested_nmi');
  a.cmp(qword(rsp, 8), imm('repeat_nmi')).jb('.Lout').cmp(qword(rsp, 8), imm('end_repeat_nmi')).jb('nested_nmi_out');
  a.label('.Lout');
  a.lea(rdx, mem(rsp, -8)).xchg(rdx, rsp).push(0).push(rdx).push(qword(rdx, 8));
  a.mov(qword(rdx, 8), imm('repeat_nmi')).mov(qword(rdx), 1);
  a.label('nested_nmi_out').pop(rdx).iretq();
  a.label('first_nmi');
  a.mov(rdx, qword(rsp)).push(1).times(5, (b) => b.push(qword(rsp, 11 * 8)));
  a.label('repeat_nmi');
  a.mov(qword(rsp, 10 * 8), 1).times(5, (b) => b.push(qword(rsp, 10 * 8)));
  a.label('end_repeat_nmi');
  a.push(-1).sub(rsp, 15 * 8).cld().mov(rdi, rsp).mov(rsi, -1).call('do_nmi');
  a.test(ebx, ebx).jnz('.Lnoswapgs').swapgs().label('.Lnoswapgs');
  a.add(rsp, 6 * 8).mov(qword(rsp, 5 * 8), 0).iretq();
  a.align(16).label('do_nmi').mov(rax, qword.gs(0xc880)).lock().inc(qword(rax)).ret();
  return a;
}

/** The i386 nmi_state latch loop: cmpxchg to claim, restart when a latched NMI arrived. */
function nmiLatch32(): Assembler {
  const a = new Assembler({ bitness: 32, origin: 0xc1600000n });
  a.label('do_nmi');
  a.mov(eax, dword.fs(0x100)).cmp(eax, 0).jne('.Llatch');
  a.mov(dword.fs(0x100), 1);
  a.label('.Lrestart').mov(eax, dword(esp, 4)).call('default_do_nmi');
  a.mov(eax, 1).mov(ecx, 0).lock().cmpxchg(dword(edx), ecx).jne('.Lrestart').ret();
  a.label('.Llatch').mov(dword.fs(0x100), 2).ret();
  a.label('default_do_nmi').in(reg.al, 0x61).out(0x80, reg.al).iret();
  return a;
}

describe('kernel-shaped code', () => {
  it('assembles the x86_64 nested-NMI entry shape with exported and local labels', () => {
    const code = nmiEntry64().assemble();
    expect([...code.symbols.keys()]).toEqual(['nmi', 'nested_nmi', 'nested_nmi_out', 'first_nmi', 'repeat_nmi', 'end_repeat_nmi', 'do_nmi']);
    const lines = disassemble(code.bytes, { origin: code.origin, bitness: 64, symbols: code.symbols });
    const texts = lines.map((l) => l.text);
    expect(texts[0]).toBe('push %rdx');
    expect(texts[1]).toBe('cmpq $0x10,0x10(%rsp)');
    const repeat = code.symbols.get('repeat_nmi') ?? 0n;
    expect(texts).toContain(`cmpq $0x${repeat.toString(16)},0x8(%rsp)`);
    expect(texts).toContain(`callq ${(code.symbols.get('do_nmi') ?? 0n).toString(16)} <do_nmi>`);
    expect(texts.filter((t) => t === 'pushq 0x58(%rsp)')).toHaveLength(5);
    expect(lines.every((l) => l.valid)).toBe(true);
  });

  it('assembles the i386 latch loop with lock cmpxchg and %fs per-CPU data', () => {
    const code = nmiLatch32().assemble();
    const texts = disassemble(code.bytes, { origin: code.origin, bitness: 32, symbols: code.symbols }).map((l) => l.text);
    expect(texts[0]).toBe('mov %fs:0x100,%eax');
    expect(texts).toContain('lock cmpxchg %ecx,(%edx)');
    expect(texts).toContain('in $0x61,%al');
    expect(texts.at(-1)).toBe('iret');
  });
});
