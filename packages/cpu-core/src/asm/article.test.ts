import { describe, expect, it } from 'vitest';
import { Assembler } from './assembler.js';
import { disassemble } from './disassembler.js';
import { qword, reg } from './operands.js';

const { rax, rbp, rsp } = reg;
const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');

/** The ftrace site the article shows, before patching: push, mov, 5-byte nop, per-CPU load. */
function ftraceSite(): ReturnType<Assembler['assemble']> {
  const a = new Assembler({ bitness: 64, origin: 0xffffffff81000000n });
  a.label('func');
  a.push(rbp);
  a.mov(rbp, rsp);
  a.label('func_mcount_site');
  a.nop(5);
  a.mov(rax, qword.gs(0xc880));
  a.ret();
  a.align(16);
  a.label('mcount');
  a.ret();
  return a.assemble();
}

describe("the article's ftrace bytes", () => {
  it('assemble from typed calls to the bytes the article prints', () => {
    const code = ftraceSite();
    expect(hex(code.bytes.subarray(0, 18))).toBe('55 48 89 e5 0f 1f 44 00 00 65 48 8b 04 25 80 c8 00 00');
  });

  it('disassemble to the texts the article prints, with symbol names', () => {
    const code = ftraceSite();
    const lines = disassemble(code.bytes.subarray(0, 18), { origin: code.origin, bitness: 64, symbols: code.symbols });
    expect(lines.map((l) => [l.bytes, l.text])).toEqual([
      ['55', 'push %rbp'],
      ['48 89 e5', 'mov %rsp,%rbp'],
      ['0f 1f 44 00 00', 'nopl 0x0(%rax,%rax,1)'],
      ['65 48 8b 04 25 80 c8 00 00', 'mov %gs:0xc880,%rax'],
    ]);
  });

  it('patched to a call, the site reads callq <mcount>', () => {
    const code = ftraceSite();
    const site = code.symbols.get('func_mcount_site') ?? 0n;
    const mcount = code.symbols.get('mcount') ?? 0n;
    const patch = new Assembler({ bitness: 64, origin: site });
    patch.call(mcount);
    const call = patch.assemble().bytes;
    expect(call[0]).toBe(0xe8);
    const [line] = disassemble(call, { origin: site, bitness: 64, symbols: code.symbols });
    expect(line?.text).toBe(`callq ${mcount.toString(16)} <mcount>`);
  });
});
