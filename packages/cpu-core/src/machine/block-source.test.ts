import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { imm, qword, reg } from '../asm/operands.js';
import type { Reg } from '../asm/operands.js';
import { kit } from '../testing/kit.js';
import { blockCounters } from './block.js';

const OPS = ['add', 'sub', 'cmp', 'and', 'or', 'xor', 'test'] as const;
type AluName = (typeof OPS)[number];

interface Case {
  readonly op: AluName;
  readonly wide: boolean;
  readonly imm: number;
  readonly pairs: readonly (readonly [bigint, bigint])[];
}

/** Values where carries, borrows, signed overflow and parity turn over, and random ones. */
const word = fc.oneof(
  fc.constantFrom(0n, 1n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n, 0x7fffffffffffffffn, 0x8000000000000000n, 0xffffffffffffffffn, 0xff00000000000080n),
  fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
);

const STRIDE = 48n;
const PASSES = 6;

/**
 * Runs `op` register-register and register-immediate over a table of operand pairs, several
 * passes (so the loop's block is compiled by the last one), storing each result and RFLAGS.
 */
function run(p: Case, execution: 'blocks' | 'interpreter'): { table: bigint[]; hash: string } {
  const k = kit({ arch: 'x86_64', timing: 'flat', execution });
  const { m, layout } = k;
  p.pairs.forEach(([a, b], i) => {
    m.write(layout.data + BigInt(i) * STRIDE, 8, a);
    m.write(layout.data + BigInt(i) * STRIDE + 8n, 8, b);
  });
  const [ra, rd]: [Reg, Reg] = p.wide ? [reg.rax, reg.rdx] : [reg.eax, reg.edx];
  const a = k.asm();
  const emit = (dst: Reg, src: Reg | ReturnType<typeof imm>): void => {
    (a as unknown as Record<AluName, (d: Reg, s: unknown) => unknown>)[p.op].call(a, dst, src);
  };
  a.label('start').mov(reg.edi, imm(PASSES));
  a.label('pass').mov(reg.rsi, imm(layout.data)).mov(reg.ecx, imm(p.pairs.length));
  a.label('loop').mov(reg.rax, qword(reg.rsi)).mov(reg.rdx, qword(reg.rsi, 8));
  emit(ra, rd);
  a.mov(qword(reg.rsi, 16), reg.rax).pushf().pop(reg.rbx).mov(qword(reg.rsi, 24), reg.rbx);
  emit(ra, imm(p.imm));
  a.mov(qword(reg.rsi, 32), reg.rax).pushf().pop(reg.rbx).mov(qword(reg.rsi, 40), reg.rbx);
  a.add(reg.rsi, imm(Number(STRIDE))).sub(reg.ecx, imm(1)).jne('loop');
  a.sub(reg.edi, imm(1)).jne('pass').hlt();
  m.loadCode(a.assemble());
  m.start(0, { rip: 'start', rsp: k.stackTop(0) });
  m.run({ steps: 1_000_000 });
  expect(m.isHalted(0)).toBe(true);
  const table: bigint[] = [];
  for (let i = 0n; i < BigInt(p.pairs.length) * STRIDE; i += 8n) table.push(m.read(layout.data + i, 8));
  return { table, hash: m.hash() };
}

describe('family templates of the block compiler', () => {
  it('ALU ops on 32- and 64-bit registers and immediates: same results and RFLAGS as the interpreter', () => {
    const compiled = blockCounters.compiled;
    fc.assert(
      fc.property(
        fc.record({
          op: fc.constantFrom(...OPS),
          wide: fc.boolean(),
          imm: fc.oneof(fc.constantFrom(0, 1, -1, 0x7fffffff, -0x80000000, 0x80), fc.integer({ min: -0x80000000, max: 0x7fffffff })),
          pairs: fc.array(fc.tuple(word, word), { minLength: 12, maxLength: 24 }),
        }),
        (p) => {
          const ref = run(p, 'interpreter');
          const fast = run(p, 'blocks');
          expect(fast.table).toEqual(ref.table);
          expect(fast.hash).toBe(ref.hash);
        },
      ),
      { numRuns: 60, seed: 4 },
    );
    // Only worth something if the loop ran as compiled blocks.
    expect(blockCounters.compiled).toBeGreaterThan(compiled);
  });
});
