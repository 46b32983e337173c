import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Assembler } from '../asm/assembler.js';
import { imm, qword, reg } from '../asm/operands.js';
import type { Machine } from '../machine/machine.js';
import { kit } from '../testing/kit.js';
import type { Monitor, SearchResult } from './model.js';
import { registerOnly } from './reduction.js';
import { search } from './search-api.js';

const { rax, rbx, rcx } = reg;

type Op = 'work' | 'copy' | 'load0' | 'load1' | 'store0' | 'store1' | 'inc0' | 'xadd1';
const OPS: readonly Op[] = ['work', 'copy', 'load0', 'load1', 'store0', 'store1', 'inc0', 'xadd1'];

/** Each CPU runs its own list of operations on two shared words, then halts. */
function model(programs: readonly (readonly Op[])[]) {
  const k = kit({ arch: 'x86_64', cpus: programs.length });
  const x0 = k.layout.data;
  const x1 = k.layout.data + 64n;
  const x = [x0, x1];
  let off = 0;
  programs.forEach((ops, cpu) => {
    const a = k.asm(off);
    a.label(`cpu${cpu}`);
    for (const op of ops) {
      if (op === 'work') a.add(rbx, imm(cpu + 1));
      else if (op === 'copy') a.mov(rcx, rbx);
      else if (op === 'load0' || op === 'load1') a.mov(rax, qword(op === 'load0' ? x0 : x1));
      else if (op === 'store0' || op === 'store1') a.mov(qword(op === 'store0' ? x0 : x1), rax);
      else if (op === 'inc0') a.add(qword(x0), imm(1));
      else a.mov(rax, imm(cpu + 1)).lock().xadd(qword(x1), rax);
    }
    a.hlt();
    k.m.loadCode(a.assemble());
    off += 0x100;
  });
  programs.forEach((_, cpu) => {
    k.m.start(cpu, { rip: `cpu${cpu}`, rsp: k.stackTop(cpu) });
    k.m.cpus[cpu]!.setReg('rax', BigInt(10 * (cpu + 1)));
  });
  return { m: k.m, x };
}

/** Reports every final outcome as a "violation" named after it: the set of names is the set of reachable outcomes. */
function outcomes(x: readonly bigint[]): Monitor {
  return {
    names: [],
    reads: [],
    init: () => null,
    after: (_m: Machine, _c, s: unknown) => ({ state: s }),
    final: (m: Machine) => [{ invariant: `outcome ${x.map((a) => m.read(a, 8)).join(',')}`, detail: 'reached' }],
    key: () => '',
  };
}

const halted = (m: Machine): boolean => m.cpus.every((c) => c.status === 'halted');

function both(programs: readonly (readonly Op[])[]): { full: SearchResult; reduced: SearchResult } {
  const { m, x } = model(programs);
  const opts = { maxDepth: 80, monitors: [outcomes(x)], done: halted };
  return { full: search(m, { ...opts, reduction: false }), reduced: search(m, { ...opts, reduction: true }) };
}

const names = (r: SearchResult): string[] => r.violations.map((v) => v.invariant).sort();

describe('partial-order reduction', () => {
  it('classifies register-only instructions as private, memory, stack, I/O and faulting ones not', () => {
    const enc = (f: (a: Assembler) => void): Uint8Array => {
      const a = new Assembler({ bitness: 64, origin: 0x1000n });
      f(a);
      return a.assemble().bytes;
    };
    expect(registerOnly(enc((a) => a.add(rbx, imm(3))), 64)).toBe(true);
    expect(registerOnly(enc((a) => a.mov(rcx, rbx)), 64)).toBe(true);
    expect(registerOnly(enc((a) => a.jmp('x').label('x')), 64)).toBe(true);
    expect(registerOnly(enc((a) => a.mov(rax, qword(0x2000n))), 64)).toBe(false);
    expect(registerOnly(enc((a) => a.push(rax)), 64)).toBe(false);
    expect(registerOnly(enc((a) => a.hlt()), 64)).toBe(false);
    expect(registerOnly(enc((a) => a.swapgs()), 64)).toBe(false);
    expect(registerOnly(enc((a) => a.iretq()), 64)).toBe(false);
  });

  it('reaches the same final outcomes with and without the reduction, and visits fewer states', () => {
    const { full, reduced } = both([
      ['work', 'work', 'load0', 'work', 'store0', 'copy'],
      ['work', 'copy', 'inc0', 'work', 'work'],
    ]);
    expect(names(reduced)).toEqual(names(full));
    expect(names(full).length).toBeGreaterThan(1);
    expect(reduced.reducedNodes).toBeGreaterThan(0);
    expect(reduced.states).toBeLessThan(full.states / 2);
    expect(full.exhaustive && reduced.exhaustive).toBe(true);
  });

  it('same verdicts and the same violations on random small models (property)', () => {
    const program = fc.array(fc.constantFrom(...OPS), { minLength: 1, maxLength: 4 });
    fc.assert(
      fc.property(fc.array(program, { minLength: 2, maxLength: 3 }), (programs) => {
        const { full, reduced } = both(programs);
        expect(reduced.verdict).toBe(full.verdict);
        expect(names(reduced)).toEqual(names(full));
        expect(reduced.states).toBeLessThanOrEqual(full.states);
      }),
      { numRuns: 20, seed: 13 },
    );
  });

  it('an invariant that reads a CPU\'s registers keeps that CPU\'s steps unreduced (and needs to)', () => {
    const { m, x } = model([['work', 'work', 'work'], ['inc0']]);
    // CPU 0's rbx passes 1, 2, 3 while CPU 1 increments x0: "rbx is 2 and x0 is 1" needs CPU 1 to go between CPU 0's steps.
    const check = (mm: Machine): string | undefined => (mm.cpus[0]!.reg('rbx') === 2n && mm.read(x[0]!, 8) === 1n ? 'seen' : undefined);
    const honest = search(m, { maxDepth: 40, invariants: [{ name: 'rbx2-x1', reads: [0], check }], done: halted });
    expect(honest.violations.map((v) => v.invariant)).toEqual(['rbx2-x1']);
    // Declaring that it reads no registers lets the reduction run CPU 0 ahead, and the state is never built.
    const lying = search(m, { maxDepth: 40, invariants: [{ name: 'rbx2-x1', reads: [], check }], done: halted });
    expect(lying.violations).toEqual([]);
  });
});
