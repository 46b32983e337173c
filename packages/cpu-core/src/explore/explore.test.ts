import { describe, expect, it } from 'vitest';
import { imm, qword, reg } from '../asm/operands.js';
import { kit } from '../testing/kit.js';
import { explore } from './explore.js';

const { rax, rbx } = reg;

/** Two CPUs increment a shared counter with a plain load/add/store: the lost update is the planted bug. */
function racyCounter(atomic: boolean) {
  const k = kit({ arch: 'x86_64', cpus: 2 });
  const a = k.asm();
  const counter = k.layout.data;
  a.label('start');
  if (atomic) a.mov(rax, imm(1)).lock().xadd(qword(counter), rax).nop().nop();
  else a.mov(rax, qword(counter)).add(rax, imm(1)).mov(qword(counter), rax);
  a.hlt();
  k.m.loadCode(a.assemble());
  for (const i of [0, 1]) k.m.start(i, { rip: 'start', rsp: k.stackTop(i) });
  return { k, counter };
}

/** An NMI handler that clobbers RBX without saving it: wrong only if the NMI lands in a narrow window. */
function clobberingNmi() {
  const k = kit({ arch: 'x86_64', cpus: 1 });
  const a = k.asm();
  a.label('start').nop().nop().mov(rbx, imm(5)).add(rbx, imm(1)).mov(qword(k.layout.data), rbx).hlt();
  a.label('nmi').add(qword(k.layout.data + 8n), imm(1)).mov(rbx, imm(100)).iretq();
  k.m.loadCode(a.assemble());
  k.m.setGate(2, { handler: 'nmi' });
  k.m.start(0, { rip: 'start', rsp: k.stackTop(0) });
  return k;
}

describe('explorer', () => {
  it('finds the lost update in a racy counter, as a shortest replayable schedule', () => {
    const { k, counter } = racyCounter(false);
    const start = k.m.snapshot();
    const r = explore(k.m, { maxDepth: 10, finalInvariants: [(m) => (m.read(counter, 8) === 2n ? undefined : `counter is ${m.read(counter, 8)}, expected 2`)] });
    expect(r.ok).toBe(false);
    const cx = r.counterexample!;
    expect(cx.violation).toMatch(/counter is 1/);
    expect(cx.trace).toContain('mov 0xffffffff82000000,%rax');
    // Replaying the schedule reproduces the violation.
    k.m.restore(start);
    k.m.run({ scheduler: { kind: 'replay', schedule: cx.schedule } });
    expect(k.m.read(counter, 8)).toBe(1n);
    // Shortest: nothing shorter violates.
    k.m.restore(start);
    const shorter = explore(k.m, { maxDepth: cx.schedule.length - 1, finalInvariants: [(m) => (m.read(counter, 8) === 2n ? undefined : 'lost')] });
    expect(shorter.ok).toBe(true);
    expect(shorter.exhaustive).toBe(true);
  });

  it('proves the atomic counter correct over every interleaving', () => {
    const { k, counter } = racyCounter(true);
    const r = explore(k.m, { maxDepth: 12, finalInvariants: [(m) => (m.read(counter, 8) === 2n ? undefined : 'lost')] });
    expect(r.ok).toBe(true);
    expect(r.exhaustive).toBe(true);
    expect(r.statesVisited).toBeGreaterThan(10);
  });

  it('finds where an NMI must land to expose a clobbered register, with the NMI accounting built-in', () => {
    const k = clobberingNmi();
    const start = k.m.snapshot();
    const r = explore(k.m, {
      maxDepth: 12,
      nmiBudget: 1,
      nmiHandled: (m) => Number(m.read(k.layout.data + 8n, 8)),
      finalInvariants: [(m) => (m.read(k.layout.data, 8) === 6n ? undefined : `result ${m.read(k.layout.data, 8)}`)],
    });
    expect(r.ok).toBe(false);
    const cx = r.counterexample!;
    expect(cx.schedule.filter((e) => e.kind === 'nmi')).toHaveLength(1);
    expect(cx.trace).toContain('deliver NMI');
    k.m.restore(start);
    k.m.run({ scheduler: { kind: 'replay', schedule: cx.schedule } });
    expect(k.m.read(k.layout.data, 8)).not.toBe(6n);
  });

  it('reports a triple fault and a stuck machine as violations', () => {
    const k = kit({ arch: 'x86_64', cpus: 1 });
    const a = k.asm();
    a.label('start').nop().ud2();
    k.m.loadCode(a.assemble());
    k.m.start(0, { rip: 'start', rsp: k.stackTop(0) });
    const r = explore(k.m, { maxDepth: 5 });
    expect(r.counterexample?.violation).toMatch(/died: triple fault/);

    const s = kit({ arch: 'x86_64', cpus: 1 });
    const b = s.asm();
    b.label('start').cli().hlt();
    s.m.loadCode(b.assemble());
    s.m.start(0, { rip: 'start', rsp: s.stackTop(0) });
    const r2 = explore(s.m, { maxDepth: 5, done: () => false });
    expect(r2.counterexample?.violation).toMatch(/stuck/);
  });
});

describe('explore refuses what it cannot do', () => {
  it('a bad depth, or a machine that does not record its schedule', () => {
    const k = kit({ arch: 'x86_64', cpus: 1 });
    expect(() => explore(k.m, { maxDepth: 0 })).toThrow(expect.objectContaining({ code: 'KERNSIM_CPU_BAD_ARGUMENT' }));
    const quiet = kit({ arch: 'x86_64', cpus: 1, recordSchedule: false });
    expect(quiet.m.recordsSchedule).toBe(false);
    expect(() => explore(quiet.m, { maxDepth: 4 })).toThrow(expect.objectContaining({ code: 'KERNSIM_CPU_BAD_ARGUMENT' }));
  });
});
