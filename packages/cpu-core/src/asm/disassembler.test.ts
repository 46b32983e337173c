import { describe, expect, it } from 'vitest';
import { Assembler } from './assembler.js';
import { decodeOne, disassemble } from './disassembler.js';
import { reg } from './operands.js';
import { SymbolTable } from './symbols.js';

describe('decodeOne', () => {
  it('returns length and text of the first instruction only', () => {
    const d = decodeOne(Uint8Array.of(0x48, 0x89, 0xe5, 0xc3), 0x1000n, 64);
    expect([d.length, d.text, d.mnemonic, d.bytes]).toEqual([3, 'mov %rsp,%rbp', 'mov', '48 89 e5']);
  });

  it('serves repeated decodes from its cache but sees rewritten bytes', () => {
    const nop = Uint8Array.of(0x0f, 0x1f, 0x44, 0x00, 0x00);
    const first = decodeOne(nop, 0x2000n, 64);
    expect(decodeOne(nop.slice(), 0x2000n, 64)).toBe(first);
    // The int3-first-byte patch step: the same address now holds cc + the tail of the old nop.
    const patched = Uint8Array.of(0xcc, 0x1f, 0x44, 0x00, 0x00);
    expect(decodeOne(patched, 0x2000n, 64).text).toBe('int3');
  });

  it('names branch targets through a symbol table', () => {
    const symbols = new Map([['mcount', 0xffffffff810071b4n]]);
    const d = decodeOne(Uint8Array.of(0xe8, 0xaf, 0x71, 0x00, 0x00), 0xffffffff81000000n, 64, symbols);
    expect(d.text).toBe('callq ffffffff810071b4 <mcount>');
  });

  it('prints a zero rip-relative displacement as objdump does, with the target', () => {
    const symbols = new Map([['here', 0x1007n]]);
    expect(decodeOne(Uint8Array.of(0x48, 0x8d, 0x05, 0, 0, 0, 0), 0x1000n, 64, symbols).text).toBe('lea 0x0(%rip),%rax # 1007 <here>');
  });

  it('reports undecodable bytes as (bad)', () => {
    const d = decodeOne(Uint8Array.of(0x06), 0x1000n, 64);
    expect([d.valid, d.text, d.length]).toEqual([false, '(bad)', 1]);
  });

  it('marks a truncated instruction as (bad)', () => {
    expect(decodeOne(Uint8Array.of(0xe8, 0x00), 0x1000n, 64).valid).toBe(false);
  });
});

describe('disassemble', () => {
  it('walks a range, resynchronising after bad bytes', () => {
    const lines = disassemble(Uint8Array.of(0x90, 0x06, 0xc3), { origin: 0x1000n, bitness: 64 });
    expect(lines.map((l) => [l.address, l.text])).toEqual([
      [0x1000n, 'nop'],
      [0x1001n, '(bad)'],
      [0x1002n, 'retq'],
    ]);
  });

  it('prints 32-bit code with 32-bit names', () => {
    const a = new Assembler({ bitness: 32, origin: 0xc1000000n });
    a.label('nmi').push(reg.ebp).call('do_nmi').ret().label('do_nmi').iret();
    const code = a.assemble();
    const texts = disassemble(code.bytes, { origin: code.origin, bitness: 32, symbols: code.symbols }).map((l) => l.text);
    expect(texts).toEqual(['push %ebp', 'call c1000007 <do_nmi>', 'ret', 'iret']);
  });
});

describe('SymbolTable', () => {
  const table = new SymbolTable([
    ['nmi', 0x1000n],
    ['nested_nmi', 0x1040n],
    ['alias', 0x1000n],
  ]);

  it('names addresses sym or sym+0xoff, preferring the first name at an address', () => {
    expect(table.symbolize(0x1000n)).toBe('nmi');
    expect(table.symbolize(0x101cn)).toBe('nmi+0x1c');
    expect(table.symbolize(0x1041n)).toBe('nested_nmi+0x1');
    expect(table.symbolize(0xfffn)).toBeUndefined();
    expect(table.address('alias')).toBe(0x1000n);
    expect(table.size).toBe(3);
  });
});
