import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Assembler } from './assembler.js';
import type { Condition } from './assembler.js';
import { disassemble } from './disassembler.js';
import { dword, imm, qword, reg } from './operands.js';
import type { Mem, Reg } from './operands.js';

/** One generated instruction: how to emit it and the mnemonic the disassembler must print ('a|b': either, e.g. short or near jmp). */
interface Step {
  readonly emit: (a: Assembler) => unknown;
  readonly mnemonic: string;
}

const R = reg;
const gpr64: readonly Reg[] = [R.rax, R.rcx, R.rdx, R.rbx, R.rsp, R.rbp, R.rsi, R.rdi, R.r8, R.r9, R.r10, R.r11, R.r12, R.r13, R.r14, R.r15];
const gpr32: readonly Reg[] = [R.eax, R.ecx, R.edx, R.ebx, R.esp, R.ebp, R.esi, R.edi];
const disp = fc.integer({ min: -0x10000, max: 0x10000 });
const i32 = fc.integer({ min: -0x80000000, max: 0x7fffffff });
const CCS = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'] as const satisfies readonly Condition[];

type PlainMethod = 'cli' | 'sti' | 'hlt' | 'pause' | 'int3' | 'ud2' | 'cpuid' | 'swapgs' | 'iret' | 'iretq' | 'pushf' | 'popf' | 'rdmsr' | 'wrmsr' | 'std' | 'cld' | 'syscall' | 'sysretq' | 'ret';

/** What differs between the modes: registers, operand-size suffixes, and the instructions that exist. */
interface Mode {
  readonly bitness: 32 | 64;
  readonly regs: readonly Reg[];
  readonly mem: (b: Reg, d: number) => Mem;
  readonly q: string;
  readonly plain: readonly (readonly [PlainMethod, string])[];
}

const PLAIN_BOTH: readonly (readonly [PlainMethod, string])[] = [
  ['cli', 'cli'], ['sti', 'sti'], ['hlt', 'hlt'], ['pause', 'pause'], ['int3', 'int3'], ['ud2', 'ud2'],
  ['cpuid', 'cpuid'], ['rdmsr', 'rdmsr'], ['wrmsr', 'wrmsr'], ['std', 'std'], ['cld', 'cld'],
];
const MODE64: Mode = {
  bitness: 64, regs: gpr64, mem: (b, d) => qword(b, d), q: 'q',
  plain: [...PLAIN_BOTH, ['swapgs', 'swapgs'], ['iretq', 'iretq'], ['pushf', 'pushfq'], ['popf', 'popfq'], ['syscall', 'syscall'], ['sysretq', 'sysretq'], ['ret', 'retq']],
};
const MODE32: Mode = {
  bitness: 32, regs: gpr32, mem: (b, d) => dword(b, d), q: 'l',
  plain: [...PLAIN_BOTH, ['iret', 'iret'], ['pushf', 'pushf'], ['popf', 'popf'], ['ret', 'ret']],
};

function step(n: number, mode: Mode): fc.Arbitrary<Step> {
  const r64 = fc.constantFrom(...mode.regs);
  const m64 = fc.tuple(r64, disp).map(([b, d]) => mode.mem(b, d));
  const wide = mode.bitness === 64;
  const q = wide ? 'q' : '';
  const label = fc.integer({ min: 0, max: n }).map((i) => `L${String(i)}`);
  const alu = fc.constantFrom('add', 'sub', 'and', 'or', 'xor', 'cmp') ;
  const plain = fc.constantFrom(...mode.plain);
  return fc.oneof(
    fc.tuple(r64, r64).map(([d, s]): Step => ({ emit: (a) => a.mov(d, s), mnemonic: 'mov' })),
    fc.tuple(r64, m64).map(([d, s]): Step => ({ emit: (a) => a.mov(d, s), mnemonic: 'mov' })),
    fc.tuple(m64, r64).map(([d, s]): Step => ({ emit: (a) => a.mov(d, s), mnemonic: 'mov' })),
    fc.tuple(m64, i32).map(([d, v]): Step => ({ emit: (a) => a.mov(d, v), mnemonic: `mov${mode.q}` })),
    fc.tuple(r64, fc.bigInt({ min: -(1n << BigInt(mode.bitness - 1)), max: (1n << BigInt(mode.bitness)) - 1n })).map(([d, v]): Step => {
      const s = BigInt.asIntN(64, v);
      return { emit: (a) => a.mov(d, v), mnemonic: !wide || (s >= -0x80000000n && s <= 0x7fffffffn) ? 'mov' : 'movabs' };
    }),
    fc.tuple(r64, fc.constantFrom(0xc880, 0x10, 0x1234)).map(([d, o]): Step => ({ emit: (a) => a.mov(d, wide ? qword.gs(o) : dword.fs(o)), mnemonic: 'mov' })),
    fc.tuple(alu, r64, i32).map(([op, d, v]): Step => ({ emit: (a) => a[op](d, v), mnemonic: op })),
    fc.tuple(alu, r64, r64).map(([op, d, s]): Step => ({ emit: (a) => a[op](d, s), mnemonic: op })),
    fc.tuple(alu, m64, fc.integer({ min: -128, max: 1000 })).map(([op, d, v]): Step => ({ emit: (a) => a[op](d, imm(v)), mnemonic: `${op}${mode.q}` })),
    fc.tuple(r64, r64).map(([d, s]): Step => ({ emit: (a) => a.test(d, s), mnemonic: 'test' })),
    fc.tuple(fc.constantFrom('inc', 'dec', 'neg', 'not') , r64).map(([op, d]): Step => ({ emit: (a) => a[op](d), mnemonic: op })),
    fc.tuple(fc.constantFrom('shl', 'shr', 'sar'), r64, fc.integer({ min: 1, max: 63 })).map(([op, d, c]): Step => ({ emit: (a) => a[op](d, c), mnemonic: op })),
    r64.map((r): Step => ({ emit: (a) => a.push(r), mnemonic: 'push' })),
    r64.map((r): Step => ({ emit: (a) => a.pop(r), mnemonic: 'pop' })),
    i32.map((v): Step => ({ emit: (a) => a.push(v), mnemonic: `push${q}` })),
    fc.tuple(r64, m64).map(([d, m]): Step => ({ emit: (a) => a.lea(d, m), mnemonic: 'lea' })),
    fc.tuple(m64, r64).map(([m, r]): Step => ({ emit: (a) => a.lock().cmpxchg(m, r), mnemonic: 'cmpxchg' })),
    fc.tuple(m64, r64).map(([m, r]): Step => ({ emit: (a) => a.lock().xadd(m, r), mnemonic: 'xadd' })),
    fc.tuple(m64, r64).map(([m, r]): Step => ({ emit: (a) => a.xchg(m, r), mnemonic: 'xchg' })),
    fc.tuple(fc.constantFrom(...CCS), label).map(([cc, l]): Step => ({ emit: (a) => a.j(cc, l), mnemonic: `j${cc}` })),
    label.map((l): Step => ({ emit: (a) => a.jmp(l), mnemonic: 'jmp|jmpq' })),
    label.map((l): Step => ({ emit: (a) => a.call(l), mnemonic: `call${q}` })),
    r64.map((r): Step => ({ emit: (a) => a.call(r), mnemonic: `call${q}` })),
    m64.map((m): Step => ({ emit: (a) => a.jmp(m), mnemonic: `jmp${q}` })),
    fc.integer({ min: 1, max: 9 }).map((k): Step => ({ emit: (a) => a.nop(k), mnemonic: ['', 'nop', 'xchg', 'nopl', 'nopl', 'nopl', 'nopw', 'nopl', 'nopl', 'nopw'][k] ?? '' })),
    fc.constantFrom<Step>(
      { emit: (a) => a.rep().movsb(), mnemonic: 'movsb' },
      { emit: (a) => a.rep().movsd(), mnemonic: 'movsl' },
      { emit: (a) => a.rep().stosb(), mnemonic: 'stos' },
      { emit: (a) => a.rep().stosd(), mnemonic: 'stos' },
      { emit: (a) => a.out(R.dx, R.al), mnemonic: 'out' },
      { emit: (a) => a.out(0x80, R.al), mnemonic: 'out' },
      { emit: (a) => a.mov(wide ? R.rax : R.eax, R.cr2), mnemonic: 'mov' },
      { emit: (a) => a.mov(R.cr3, wide ? R.rbx : R.ebx), mnemonic: 'mov' },
      { emit: (a) => a.int(3), mnemonic: 'int' },
    ),
    plain.map(([method, mnemonic]): Step => ({ emit: (a) => a[method](), mnemonic })),
  );
}

describe('round trip', () => {
  it.each([
    ['64-bit', MODE64, fc.bigInt({ min: 0xffffffff80000000n, max: 0xffffffff8fffffffn })],
    ['32-bit', MODE32, fc.bigInt({ min: 0xc0000000n, max: 0xcfffffffn })],
  ] as const)('random valid %s sequences assemble and decode back to the same instructions', (_name, mode, origins) => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }).chain((n) => fc.array(step(n, mode), { minLength: n, maxLength: n })),
        origins,
        (steps, origin) => {
          const a = new Assembler({ bitness: mode.bitness, origin });
          steps.forEach((s, i) => {
            a.label(`L${String(i)}`);
            s.emit(a);
          });
          a.label(`L${String(steps.length)}`);
          const code = a.assemble();
          const lines = disassemble(code.bytes, { origin, bitness: mode.bitness });
          expect(lines).toHaveLength(steps.length);
          lines.forEach((l, i) => {
            expect(steps[i]?.mnemonic.split('|')).toContain(l.mnemonic);
          });
          // Every label lands on an instruction boundary.
          const starts = new Set(lines.map((l) => l.address));
          steps.forEach((_s, i) => {
            expect(starts.has(code.labels.get(`L${String(i)}`) ?? -1n)).toBe(true);
          });
        },
      ),
      { numRuns: 150, seed: 0x5eed },
    );
  });
});
