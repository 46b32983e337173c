import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { byte, imm, qword, reg } from '../asm/operands.js';
import { kit } from '../testing/kit.js';
import { blockCounters } from './block.js';
import type { Machine } from './machine.js';

const { rax, rbx, rdx, rsi, ecx, edx, esi } = reg;

/** The sixteen conditional jumps, by condition code. */
const JCC = ['jo', 'jno', 'jb', 'jae', 'je', 'jne', 'jbe', 'ja', 'js', 'jns', 'jp', 'jnp', 'jl', 'jge', 'jle', 'jg'] as const;
/** Flag-setting instructions before the jump: each leaves a different mix of CF/OF/ZF/SF/PF set. */
const SETTERS = ['sub32', 'add64', 'and32', 'cmp64'] as const;

interface Loop {
  readonly cc: number;
  readonly setter: (typeof SETTERS)[number];
  readonly k: number;
  readonly timer: number | null;
}

/**
 * A loop whose block ends in a conditional jump back to its own head (taken or not by varying
 * flags), with a store in it: a block that loops inside its function. The block built from
 * `start` jumps back to its third instruction, the one built from `loop` to its first.
 */
function build(p: Loop, execution: 'blocks' | 'interpreter'): Machine {
  const k = kit({ arch: 'x86_64', timing: 'modelled', execution });
  const a = k.asm();
  a.label('tick').add(qword(k.layout.data + 8n), imm(1)).iretq();
  a.label('start').xor(ecx, ecx).mov(rax, imm(p.k));
  a.label('loop').add(rax, imm(0x5e3779b9)).mov(rdx, rax).add(ecx, imm(1)).mov(qword(k.layout.data), rdx).mov(esi, ecx);
  if (p.setter === 'sub32') a.sub(edx, imm(p.k));
  else if (p.setter === 'add64') a.add(rdx, rsi);
  else if (p.setter === 'and32') a.and(edx, imm(p.k & 7));
  else a.cmp(rdx, rax);
  (a as unknown as Record<string, (t: string) => unknown>)[JCC[p.cc]!]!.call(a, 'loop');
  a.add(rbx, imm(1)).jmp('loop');
  k.m.loadCode(a.assemble());
  k.m.setGate(0x30, { handler: 'tick' });
  k.m.start(0, { rip: 'start', rsp: k.stackTop(0) });
  k.m.cpus[0]!.setTimer(p.timer, 0x30);
  return k.m;
}

function state(m: Machine): string {
  const c = m.cpus[0]!;
  return `${m.hash()} ${c.rip.toString(16)} ${c.rflags.toString(16)} ${c.cycles} ${c.instructions} ${c.reg('rbx')}`;
}

describe('blocks that loop inside their function', () => {
  it('stop at every budget, timer and condition exactly where the interpreter does', () => {
    const before = blockCounters.compiled;
    const loop = fc.record({
      cc: fc.integer({ min: 0, max: 15 }),
      setter: fc.constantFrom(...SETTERS),
      k: fc.integer({ min: 0, max: 0x7fffffff }),
      timer: fc.option(fc.integer({ min: 50, max: 5000 }), { nil: null }),
    });
    fc.assert(
      fc.property(loop, fc.array(fc.integer({ min: 1, max: 3000 }), { minLength: 1, maxLength: 12 }), (p, budgets) => {
        const ref = build(p, 'interpreter');
        const fast = build(p, 'blocks');
        for (const steps of budgets) {
          ref.run({ steps });
          fast.run({ steps });
          expect(state(fast)).toBe(state(ref));
        }
      }),
      { numRuns: 80, seed: 3 },
    );
    expect(blockCounters.compiled).toBeGreaterThan(before);
  });

  it('a loop of a million passes runs in the block to the interpreter\'s state', () => {
    const p: Loop = { cc: 5, setter: 'sub32', k: 1, timer: null };
    const ref = build(p, 'interpreter');
    const fast = build(p, 'blocks');
    ref.run({ steps: 1_000_003 });
    fast.run({ steps: 1_000_003 });
    expect(state(fast)).toBe(state(ref));
    expect(fast.cpus[0]!.instructions).toBe(1_000_003);
  });

  it('a looping block that stores into its own head leaves at the store, as the interpreter does', () => {
    const runs = (['interpreter', 'blocks'] as const).map((execution) => {
      const k = kit({ arch: 'x86_64', timing: 'modelled', execution });
      const a = k.asm();
      // The timer's iret serializes, so the page (written by the loop) may run as blocks again after each tick.
      a.label('tick').add(qword(k.layout.data + 8n), imm(1)).iretq();
      a.label('start').xor(ecx, ecx);
      // The store rewrites the head's immediate with ch, which changes every 256 passes: a hot, looping block whose store
      // changes its own first instruction now and then, and leaves it unchanged (same byte) in between.
      a.label('loop').add(rax, imm(0x01020304)).label('head');
      a.add(rdx, rax).add(ecx, imm(1)).mov(byte(reg.rip, 'head', -1), reg.ch).test(ecx, imm(0x3ffff)).jne('loop');
      a.add(rbx, imm(1)).jmp('loop');
      k.m.loadCode(a.assemble());
      k.m.setGate(0x30, { handler: 'tick' });
      k.m.start(0, { rip: 'start', rsp: k.stackTop(0), interrupts: true });
      k.m.cpus[0]!.setTimer(997, 0x30);
      const compiled = blockCounters.compiled;
      const states: string[] = [];
      for (let i = 0; i < 60; i++) {
        k.m.run({ steps: 1 + ((i * 7919) % 5000) });
        states.push(state(k.m));
      }
      if (execution === 'blocks') expect(blockCounters.compiled).toBeGreaterThan(compiled);
      return { states, head: k.m.read(k.m.address('head') - 1n, 1), ch: (k.m.cpus[0]!.reg('rcx') >> 8n) & 0xffn };
    });
    expect(runs[1]!.states).toEqual(runs[0]!.states);
    // The store took effect: the head's immediate holds the ch of the last pass.
    expect(runs[1]!.head).toBe(runs[1]!.ch);
  });

  it('a push that faults inside a looping block leaves the interpreter\'s state (RSP not moved by the faulting push)', () => {
    const finals = (['interpreter', 'blocks'] as const).map((execution) => {
      const k = kit({ arch: 'x86_64', timing: 'modelled', execution });
      const a = k.asm();
      // Each pass pushes 8 bytes net: the 16 KiB stack runs out and a push faults inside the compiled loop
      // (no #PF gate: the CPU shuts down, with RSP where the faulting push found it).
      a.label('start').mov(rax, imm(1));
      a.label('loop').push(rax).add(rax, imm(1)).push(rdx).pop(rdx).cmp(rax, imm(0)).jne('loop');
      k.m.loadCode(a.assemble());
      k.m.start(0, { rip: 'start', rsp: k.stackTop(0) });
      const states: string[] = [];
      for (let i = 0; i < 40; i++) {
        k.m.run({ steps: 397 });
        states.push(state(k.m));
      }
      const c = k.m.cpus[0]!;
      return { states, status: c.status, rsp: c.reg('rsp'), base: k.stackTop(0) - 0x4000n };
    });
    expect(finals[1]!.states).toEqual(finals[0]!.states);
    expect(finals[1]!.status).toBe('dead');
    expect(finals[1]!.rsp).toBe(finals[1]!.base);
  });
});
