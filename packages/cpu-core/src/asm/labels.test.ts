import { describe, expect, it } from 'vitest';
import { Assembler } from './assembler.js';
import { disassemble } from './disassembler.js';
import { dword, imm, mem, qword, reg } from './operands.js';

const { rax, eax } = reg;
const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');
const KERNEL = 0xffffffff81000000n;

function build(fn: (a: Assembler) => unknown, origin = 0x1000n, bitness: 32 | 64 = 64): ReturnType<Assembler['assemble']> {
  const a = new Assembler({ bitness, origin });
  fn(a);
  return a.assemble();
}

describe('labels and branch relaxation', () => {
  it('resolves a forward reference with a short jump', () => {
    const code = build((a) => a.jmp('fwd').nop(10).label('fwd').ret());
    expect(hex(code.bytes.subarray(0, 2))).toBe('eb 0a');
    expect(code.symbols.get('fwd')).toBe(0x100cn);
  });

  it('keeps a jump short at +127 and makes it near at +128', () => {
    expect(hex(build((a) => a.jmp('x').space(127).label('x')).bytes.subarray(0, 2))).toBe('eb 7f');
    expect(hex(build((a) => a.jmp('x').space(128).label('x')).bytes.subarray(0, 5))).toBe('e9 80 00 00 00');
  });

  it('keeps a backward jump short at -128 and makes it near at -129', () => {
    expect(hex(build((a) => a.label('top').space(126).jmp('top')).bytes.subarray(126))).toBe('eb 80');
    expect(hex(build((a) => a.label('top').space(127).jmp('top')).bytes.subarray(127))).toBe('e9 7c ff ff ff');
  });

  it('grows a conditional jump to the six-byte 0f 8x form', () => {
    const code = build((a) => a.jne('far').space(200).label('far'));
    expect(hex(code.bytes.subarray(0, 6))).toBe('0f 85 c8 00 00 00');
  });

  it('relaxes in cascade: a jump that grows pushes another out of short range', () => {
    const code = build((a) => a.jmp('L1').jmp('L2').space(123).label('L1').space(200).label('L2'));
    // With both short L1 would be 125 bytes away; the second jump must grow, which moves L1 to 128.
    expect(hex(code.bytes.subarray(0, 10))).toBe('e9 80 00 00 00 e9 43 01 00 00');
    const lines = disassemble(code.bytes.subarray(0, 10), { origin: code.origin, bitness: 64, symbols: code.symbols });
    expect(lines.map((l) => l.text)).toEqual(['jmpq 1085 <L1>', 'jmpq 114d <L2>']);
  });

  it('addresses a label rip-relative, absolutely, and as an immediate', () => {
    const code = build(
      (a) => a.lea(rax, qword(reg.rip, 'data')).mov(rax, imm('data')).push(imm('data')).mov(eax, dword(reg.rip, 'data', 4)).label('data').dq('data', 0x1122334455667788n),
      KERNEL,
    );
    const data = code.symbols.get('data') ?? 0n;
    expect(data).toBe(KERNEL + 25n);
    expect(hex(code.bytes.subarray(0, 7))).toBe('48 8d 05 12 00 00 00');
    expect(hex(code.bytes.subarray(7, 14))).toBe('48 c7 c0 19 00 00 81');
    expect(hex(code.bytes.subarray(14, 19))).toBe('68 19 00 00 81');
    expect(hex(code.bytes.subarray(19, 25))).toBe('8b 05 04 00 00 00');
    expect(hex(code.bytes.subarray(25, 33))).toBe('19 00 00 81 ff ff ff ff');
    const [lea] = disassemble(code.bytes.subarray(0, 7), { origin: KERNEL, bitness: 64, symbols: code.symbols });
    expect(lea?.text).toBe(`lea 0x12(%rip),%rax # ${data.toString(16)} <data>`);
  });

  it('stores label addresses with dd in 32-bit code', () => {
    const code = build((a) => a.label('start').dd('start', 'end').label('end'), 0xc1000000n, 32);
    expect(hex(code.bytes)).toBe('00 00 00 c1 08 00 00 c1');
  });

  it('calls absolute addresses outside the block', () => {
    const code = build((a) => a.call(0xffffffff81234567n).jmp(0xffffffff81000000n), KERNEL + 0x10n);
    expect(hex(code.bytes)).toBe('e8 52 45 23 00 eb e9');
  });

  it('keeps .L labels local: in labels, not in symbols', () => {
    const code = build((a) => a.label('nmi').label('.Lnested').ret());
    expect([...code.symbols.keys()]).toEqual(['nmi']);
    expect(code.labels.get('.Lnested')).toBe(0x1000n);
  });
});

describe('data and layout', () => {
  it('aligns relative to the absolute origin with the chosen fill', () => {
    const code = build((a) => a.ret().align(8).label('a8').db(1).align(4, 0xcc).label('a4'), 0x1003n);
    expect(hex(code.bytes)).toBe('c3 90 90 90 90 01 cc cc cc');
    expect(code.symbols.get('a8')).toBe(0x1008n);
    expect(code.symbols.get('a4')).toBe(0x100cn);
    expect(code.end).toBe(0x100cn);
  });

  it('writes db/dw/dd/dq little-endian, accepting negative values', () => {
    const code = build((a) => a.db(0xff, -1, Uint8Array.of(7)).dw(0x1234, -2).dd(0xdeadbeef).dq(-1n));
    expect(hex(code.bytes)).toBe('ff ff 07 34 12 fe ff ef be ad de ff ff ff ff ff ff ff ff');
  });

  it('repeats with times, reserves with space, writes strings with ascii/asciz', () => {
    const code = build((a) => a.times(3, (b, i) => b.db(i)).space(2, 0xaa).ascii('ok').asciz('!'));
    expect(hex(code.bytes)).toBe('00 01 02 aa aa 6f 6b 21 00');
  });

  it('chains nops longer than nine bytes', () => {
    const code = build((a) => a.nop(11));
    expect(disassemble(code.bytes, { origin: 0x1000n, bitness: 64 }).map((l) => l.length)).toEqual([9, 2]);
  });

  it('assembles a few thousand instructions into the expected size', () => {
    const n = 3000;
    const code = build((a) => {
      for (let i = 0; i < n; i++) a.label(`l${String(i)}`).mov(rax, qword(reg.rsp, 8)).cmp(rax, 1).jne(`l${String(Math.max(0, i - 2))}`);
    });
    // mov 5 + cmp 4 + short jne 2 bytes each.
    expect(code.bytes.length).toBe(n * 11);
    expect(disassemble(code.bytes, { origin: code.origin, bitness: 64 })).toHaveLength(3 * n);
  });

  it('is repeatable: assembling twice gives identical bytes', () => {
    const a = new Assembler({ bitness: 64, origin: 0x1000n });
    a.jmp('x').space(300).label('x').lea(rax, mem(reg.rip, 'x'));
    expect(a.assemble().bytes).toEqual(a.assemble().bytes);
  });
});

describe('forced branch sizes', () => {
  it('keeps a near jump near even when the target is close (a patchable 5-byte jump)', () => {
    const code = build((a) => a.jmp('x', 'near').label('x').je('x', 'near'));
    expect(hex(code.bytes)).toBe('e9 00 00 00 00 0f 84 fa ff ff ff');
  });

  it('refuses a forced short jump that cannot reach', () => {
    const a = new Assembler({ bitness: 64, origin: 0x1000n });
    a.jmp('x', 'short').space(200).label('x');
    expect(() => a.assemble()).toThrow(expect.objectContaining({ code: 'KERNSIM_ASM_RANGE' }));
  });
});
