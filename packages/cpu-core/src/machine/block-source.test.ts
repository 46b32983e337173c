import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dword, imm, qword, reg } from '../asm/operands.js';
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

type Asm = ReturnType<ReturnType<typeof kit>['asm']>;
const call = (a: Asm, name: string, ...ops: unknown[]): void => {
  (a as unknown as Record<string, (...o: unknown[]) => unknown>)[name]!.call(a, ...ops);
};

/**
 * Runs two instructions (`first`, `second`: each emitted after RAX and RDX are loaded from a
 * table row) over a table of operand pairs, several passes (so the loop's block is compiled
 * by the last one), storing RAX and RFLAGS after each.
 */
function run(pairs: Case['pairs'], first: (a: Asm) => void, second: (a: Asm) => void, execution: 'blocks' | 'interpreter'): { table: bigint[]; hash: string } {
  const k = kit({ arch: 'x86_64', timing: 'flat', execution });
  const { m, layout } = k;
  pairs.forEach(([a, b], i) => {
    m.write(layout.data + BigInt(i) * STRIDE, 8, a);
    m.write(layout.data + BigInt(i) * STRIDE + 8n, 8, b);
  });
  const a = k.asm();
  a.label('start').mov(reg.edi, imm(PASSES));
  a.label('pass').mov(reg.rsi, imm(layout.data)).mov(reg.ecx, imm(pairs.length));
  a.label('loop').mov(reg.rax, qword(reg.rsi)).mov(reg.rdx, qword(reg.rsi, 8));
  first(a);
  a.mov(qword(reg.rsi, 16), reg.rax).pushf().pop(reg.rbx).mov(qword(reg.rsi, 24), reg.rbx);
  a.mov(reg.rax, qword(reg.rsi)).mov(reg.rdx, qword(reg.rsi, 8));
  second(a);
  a.mov(qword(reg.rsi, 32), reg.rax).pushf().pop(reg.rbx).mov(qword(reg.rsi, 40), reg.rbx);
  a.add(reg.rsi, imm(Number(STRIDE))).sub(reg.ecx, imm(1)).jne('loop');
  a.sub(reg.edi, imm(1)).jne('pass').hlt();
  m.loadCode(a.assemble());
  m.start(0, { rip: 'start', rsp: k.stackTop(0) });
  m.run({ steps: 1_000_000 });
  expect(m.isHalted(0)).toBe(true);
  const table: bigint[] = [];
  for (let i = 0n; i < BigInt(pairs.length) * STRIDE; i += 8n) table.push(m.read(layout.data + i, 8));
  return { table, hash: m.hash() };
}

const OP_AND_WIDTH = { op: fc.constantFrom(...OPS), wide: fc.boolean() };

/** The table and the state hash after `run` through compiled blocks are the interpreter's. */
function sameAsInterpreter(pairs: Case['pairs'], first: (a: Asm) => void, second: (a: Asm) => void, what?: string): void {
  const ref = run(pairs, first, second, 'interpreter');
  const fast = run(pairs, first, second, 'blocks');
  expect(fast.table, what).toEqual(ref.table);
  expect(fast.hash, what).toBe(ref.hash);
}

describe('family templates of the block compiler', () => {
  it('ALU ops on 32- and 64-bit registers and immediates: same results and RFLAGS as the interpreter', () => {
    const compiled = blockCounters.compiled;
    fc.assert(
      fc.property(
        fc.record({
          ...OP_AND_WIDTH,
          imm: fc.oneof(fc.constantFrom(0, 1, -1, 0x7fffffff, -0x80000000, 0x80), fc.integer({ min: -0x80000000, max: 0x7fffffff })),
          pairs: fc.array(fc.tuple(word, word), { minLength: 12, maxLength: 24 }),
        }),
        (p) => {
          const [ra, rd]: [Reg, Reg] = p.wide ? [reg.rax, reg.rdx] : [reg.eax, reg.edx];
          const first = (a: Asm): void => { call(a, p.op, ra, rd); };
          const second = (a: Asm): void => { call(a, p.op, ra, imm(p.imm)); };
          sameAsInterpreter(p.pairs, first, second);
        },
      ),
      { numRuns: 60, seed: 4 },
    );
    // Only worth something if the loop ran as compiled blocks.
    expect(blockCounters.compiled).toBeGreaterThan(compiled);
  });

  it('shifts and rotates of 32- and 64-bit registers by every count: same results and RFLAGS as the interpreter', () => {
    const compiled = blockCounters.compiled;
    const pairs = fc.sample(fc.tuple(word, word), { numRuns: 12, seed: 7 });
    for (const op of ['shl', 'shr', 'sar', 'rol', 'ror']) {
      for (const wide of [false, true]) {
        const r = wide ? reg.rax : reg.eax;
        // Two counts a run, so every count from 0 to 64 (64 masks to 0) meets every value.
        for (let n = 0; n <= 64; n += 2) {
          const first = (a: Asm): void => { call(a, op, r, imm(n)); };
          const second = (a: Asm): void => { call(a, op, r, imm(n + 1)); };
          sameAsInterpreter(pairs, first, second, `${op} ${wide ? 64 : 32}-bit by ${n} and ${n + 1}`);
        }
      }
    }
    expect(blockCounters.compiled).toBeGreaterThan(compiled);
  });

  it('ALU ops from memory, on memory and inc/dec of memory (locked or not): same results and RFLAGS as the interpreter', () => {
    const compiled = blockCounters.compiled;
    fc.assert(
      fc.property(
        fc.record({
          ...OP_AND_WIDTH,
          imm: fc.integer({ min: -0x80000000, max: 0x7fffffff }),
          lock: fc.boolean(),
          inc: fc.boolean(),
          pairs: fc.array(fc.tuple(word, word), { minLength: 12, maxLength: 16 }),
        }),
        (p) => {
          const r = p.wide ? reg.rax : reg.eax;
          const at = (p.wide ? qword : dword)(reg.rsi, 8);
          // RAX op= the row's second word; then that word op= imm (or inc/dec), read back into RAX (mov keeps the flags).
          const first = (a: Asm): void => { call(a, p.op, r, at); };
          const second = (a: Asm): void => {
            if (p.lock && p.op !== 'cmp' && p.op !== 'test') a.lock();
            if (p.op === 'test' || p.op === 'cmp' || !p.inc) call(a, p.op, at, imm(p.imm));
            else call(a, p.imm % 2 === 0 ? 'inc' : 'dec', at);
            a.mov(reg.rax, qword(reg.rsi, 8));
          };
          sameAsInterpreter(p.pairs, first, second);
        },
      ),
      { numRuns: 60, seed: 5 },
    );
    expect(blockCounters.compiled).toBeGreaterThan(compiled);
  });
});
