import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Assembler } from './assembler.js';
import type { Condition } from './assembler.js';
import { disassemble } from './disassembler.js';
import { imm, qword, reg } from './operands.js';
import type { Reg } from './operands.js';

/** One generated instruction: how to emit it and the mnemonic the disassembler must print for it. */
interface Step {
  readonly emit: (a: Assembler) => unknown;
  readonly mnemonic: string;
}

const R = reg;
const gpr64: readonly Reg[] = [R.rax, R.rcx, R.rdx, R.rbx, R.rsp, R.rbp, R.rsi, R.rdi, R.r8, R.r9, R.r10, R.r11, R.r12, R.r13, R.r14, R.r15];
const r64 = fc.constantFrom(...gpr64);
const base = fc.constantFrom(...gpr64);
const disp = fc.integer({ min: -0x10000, max: 0x10000 });
const m64 = fc.tuple(base, disp).map(([b, d]) => qword(b, d));
const i32 = fc.integer({ min: -0x80000000, max: 0x7fffffff });
const CCS = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'] as const satisfies readonly Condition[];

type PlainMethod = 'cli' | 'sti' | 'hlt' | 'pause' | 'int3' | 'ud2' | 'cpuid' | 'swapgs' | 'iretq' | 'pushf' | 'popf' | 'rdmsr' | 'wrmsr' | 'std' | 'cld' | 'syscall' | 'sysretq' | 'ret';

function step(n: number): fc.Arbitrary<Step> {
  const label = fc.integer({ min: 0, max: n }).map((i) => `L${String(i)}`);
  const alu = fc.constantFrom('add', 'sub', 'and', 'or', 'xor', 'cmp') ;
  const plain = fc.constantFrom<[PlainMethod, string]>(
    ['cli', 'cli'], ['sti', 'sti'], ['hlt', 'hlt'], ['pause', 'pause'], ['int3', 'int3'], ['ud2', 'ud2'],
    ['cpuid', 'cpuid'], ['swapgs', 'swapgs'], ['iretq', 'iretq'], ['pushf', 'pushfq'], ['popf', 'popfq'],
    ['rdmsr', 'rdmsr'], ['wrmsr', 'wrmsr'], ['std', 'std'], ['cld', 'cld'], ['syscall', 'syscall'], ['sysretq', 'sysretq'], ['ret', 'retq'],
  );
  return fc.oneof(
    fc.tuple(r64, r64).map(([d, s]): Step => ({ emit: (a) => a.mov(d, s), mnemonic: 'mov' })),
    fc.tuple(r64, m64).map(([d, s]): Step => ({ emit: (a) => a.mov(d, s), mnemonic: 'mov' })),
    fc.tuple(m64, r64).map(([d, s]): Step => ({ emit: (a) => a.mov(d, s), mnemonic: 'mov' })),
    fc.tuple(m64, i32).map(([d, v]): Step => ({ emit: (a) => a.mov(d, v), mnemonic: 'movq' })),
    fc.tuple(r64, fc.bigInt({ min: -(1n << 63n), max: (1n << 64n) - 1n })).map(([d, v]): Step => {
      const s = BigInt.asIntN(64, v);
      return { emit: (a) => a.mov(d, v), mnemonic: s >= -0x80000000n && s <= 0x7fffffffn ? 'mov' : 'movabs' };
    }),
    fc.tuple(r64, fc.constantFrom(0xc880, 0x10, 0x1234)).map(([d, o]): Step => ({ emit: (a) => a.mov(d, qword.gs(o)), mnemonic: 'mov' })),
    fc.tuple(alu, r64, i32).map(([op, d, v]): Step => ({ emit: (a) => a[op](d, v), mnemonic: op })),
    fc.tuple(alu, r64, r64).map(([op, d, s]): Step => ({ emit: (a) => a[op](d, s), mnemonic: op })),
    fc.tuple(alu, m64, fc.integer({ min: -128, max: 1000 })).map(([op, d, v]): Step => ({ emit: (a) => a[op](d, imm(v)), mnemonic: `${op}q` })),
    fc.tuple(r64, r64).map(([d, s]): Step => ({ emit: (a) => a.test(d, s), mnemonic: 'test' })),
    fc.tuple(fc.constantFrom('inc', 'dec', 'neg', 'not') , r64).map(([op, d]): Step => ({ emit: (a) => a[op](d), mnemonic: op })),
    fc.tuple(fc.constantFrom('shl', 'shr', 'sar'), r64, fc.integer({ min: 1, max: 63 })).map(([op, d, c]): Step => ({ emit: (a) => a[op](d, c), mnemonic: op })),
    r64.map((r): Step => ({ emit: (a) => a.push(r), mnemonic: 'push' })),
    r64.map((r): Step => ({ emit: (a) => a.pop(r), mnemonic: 'pop' })),
    i32.map((v): Step => ({ emit: (a) => a.push(v), mnemonic: 'pushq' })),
    fc.tuple(r64, m64).map(([d, m]): Step => ({ emit: (a) => a.lea(d, m), mnemonic: 'lea' })),
    fc.tuple(m64, r64).map(([m, r]): Step => ({ emit: (a) => a.lock().cmpxchg(m, r), mnemonic: 'cmpxchg' })),
    fc.tuple(m64, r64).map(([m, r]): Step => ({ emit: (a) => a.lock().xadd(m, r), mnemonic: 'xadd' })),
    fc.tuple(m64, r64).map(([m, r]): Step => ({ emit: (a) => a.xchg(m, r), mnemonic: 'xchg' })),
    fc.tuple(fc.constantFrom(...CCS), label).map(([cc, l]): Step => ({ emit: (a) => a.j(cc, l), mnemonic: `j${cc}` })),
    label.map((l): Step => ({ emit: (a) => a.jmp(l), mnemonic: 'jmp' })),
    label.map((l): Step => ({ emit: (a) => a.call(l), mnemonic: 'callq' })),
    r64.map((r): Step => ({ emit: (a) => a.call(r), mnemonic: 'callq' })),
    m64.map((m): Step => ({ emit: (a) => a.jmp(m), mnemonic: 'jmpq' })),
    fc.integer({ min: 1, max: 9 }).map((k): Step => ({ emit: (a) => a.nop(k), mnemonic: ['', 'nop', 'xchg', 'nopl', 'nopl', 'nopl', 'nopw', 'nopl', 'nopl', 'nopw'][k] ?? '' })),
    fc.constantFrom<Step>(
      { emit: (a) => a.rep().movsb(), mnemonic: 'movsb' },
      { emit: (a) => a.rep().movsq(), mnemonic: 'movsq' },
      { emit: (a) => a.rep().stosb(), mnemonic: 'stos' },
      { emit: (a) => a.rep().stosq(), mnemonic: 'stos' },
      { emit: (a) => a.out(R.dx, R.al), mnemonic: 'out' },
      { emit: (a) => a.out(0x80, R.al), mnemonic: 'out' },
      { emit: (a) => a.mov(R.rax, R.cr2), mnemonic: 'mov' },
      { emit: (a) => a.mov(R.cr3, R.rbx), mnemonic: 'mov' },
      { emit: (a) => a.int(3), mnemonic: 'int' },
    ),
    plain.map(([method, mnemonic]): Step => ({ emit: (a) => a[method](), mnemonic })),
  );
}

describe('round trip', () => {
  it('random valid 64-bit sequences assemble and decode back to the same instructions', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }).chain((n) => fc.array(step(n), { minLength: n, maxLength: n })),
        fc.bigInt({ min: 0xffffffff80000000n, max: 0xffffffff8fffffffn }),
        (steps, origin) => {
          const a = new Assembler({ bitness: 64, origin });
          steps.forEach((s, i) => {
            a.label(`L${String(i)}`);
            s.emit(a);
          });
          a.label(`L${String(steps.length)}`);
          const code = a.assemble();
          const lines = disassemble(code.bytes, { origin, bitness: 64 });
          expect(lines.map((l) => l.mnemonic)).toEqual(steps.map((s) => s.mnemonic));
          // Every label lands on an instruction boundary.
          const starts = new Set(lines.map((l) => l.address));
          steps.forEach((_s, i) => {
            expect(starts.has(code.labels.get(`L${String(i)}`) ?? -1n)).toBe(true);
          });
        },
      ),
      { numRuns: 200, seed: 0x5eed },
    );
  });
});
