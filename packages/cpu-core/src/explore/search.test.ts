import { describe, expect, it } from 'vitest';
import { imm, qword, reg } from '../asm/operands.js';
import type { Machine } from '../machine/machine.js';
import { buildCounterModel } from '../testing/counter-model.js';
import { kit, LAYOUT64 } from '../testing/kit.js';
import type { Monitor, SearchOptions } from './model.js';
import { replaySchedule } from './replay.js';
import { search } from './search-api.js';

/** Where the counter model keeps its counter. */
const COUNTER = LAYOUT64.data;

const { rbx } = reg;

const allHalted = (m: Machine): boolean => m.cpus.every((c) => c.status === 'halted');

describe('search', () => {
  it('finds the lost update with a shortest schedule that replays to the same state', () => {
    const { machine: m, options } = buildCounterModel({ cpus: 2, work: 1, atomic: false, reduction: false });
    const opts: SearchOptions = { ...options, maxDepth: 30 };
    const r = search(m, opts);
    expect(r.verdict).toBe('violated');
    const v = r.violations.find((x) => x.invariant === 'lost-update')!;
    expect(v.detail).toMatch(/counter is 1/);
    // Both CPUs run their 5 instructions, hlt included: 10 steps is what every complete run takes.
    expect(v.schedule).toHaveLength(10);
    const start = m.snapshot();
    replaySchedule(m, v.schedule);
    expect(m.read(COUNTER, 8)).toBe(1n);
    m.restore(start);
    const shorter = search(m, { ...opts, maxDepth: 9 });
    expect(shorter.violations).toHaveLength(0);
  });

  it('verifies the atomic counter over every interleaving, exhaustively', () => {
    const { machine: m, options } = buildCounterModel({ cpus: 2, work: 1, atomic: true });
    const r = search(m, options);
    expect(r.verdict).toBe('verified');
    expect(r.exhaustive).toBe(true);
    expect(r.states).toBeGreaterThan(5);
  });

  it('reports every distinct violation, not only the first', () => {
    const { machine: m, options } = buildCounterModel({ cpus: 2, work: 1, atomic: false });
    const never = { name: 'never-true', reads: [0], check: (mm: Machine) => (mm.cpus[0]!.rip === 0n ? 'at 0' : undefined) };
    const belowTwo = { name: 'counter-below-2', reads: [], check: (mm: Machine) => (mm.read(COUNTER, 8) >= 2n ? 'counter reached 2' : undefined) };
    const r = search(m, { ...options, invariants: [never, belowTwo] });
    expect(r.violations.map((v) => v.invariant).sort()).toEqual(['counter-below-2', 'lost-update']);
  });

  it('stops at the state budget and says the search is incomplete', () => {
    const { machine: m, options } = buildCounterModel({ cpus: 3, work: 4, atomic: true, reduction: false });
    const r = search(m, { ...options, maxStates: 20 });
    expect(r.verdict).toBe('incomplete');
    expect(r.exhaustive).toBe(false);
  });

  it('refuses a bad depth, a duplicate event source and a schedule naming an unknown source', () => {
    const { machine: m } = buildCounterModel({ cpus: 2, work: 1, atomic: true });
    expect(() => search(m, { maxDepth: 0 })).toThrow(expect.objectContaining({ code: 'KERNSIM_CPU_BAD_ARGUMENT' }));
    const nmi = { name: 'nmi', kind: 'nmi', budget: 1 } as const;
    expect(() => search(m, { maxDepth: 3, events: [nmi, nmi] })).toThrow(expect.objectContaining({ code: 'KERNSIM_CPU_BAD_ARGUMENT' }));
    expect(() => {
      replaySchedule(m, [{ kind: 'event', source: 'nope', cpu: 0 }]);
    }).toThrow(expect.objectContaining({ code: 'KERNSIM_CPU_SCHEDULE' }));
  });
});

describe('search with event sources', () => {
  /** An NMI handler that clobbers RBX: wrong only if the NMI lands between the mov and the store. */
  function clobberingNmi() {
    const k = kit({ arch: 'x86_64', cpus: 1 });
    const a = k.asm();
    a.label('start').nop().nop().mov(rbx, imm(5)).add(rbx, imm(1)).mov(qword(k.layout.data), rbx).hlt();
    a.label('nmi').mov(rbx, imm(100)).iretq();
    k.m.loadCode(a.assemble());
    k.m.setGate(2, { handler: 'nmi' });
    k.m.start(0, { rip: 'start', rsp: k.stackTop(0) });
    return k;
  }

  it('places the NMI where it breaks the result, and offers it only where it changes anything', () => {
    const k = clobberingNmi();
    const result: Monitor<null> = {
      names: ['result'],
      reads: [],
      init: () => null,
      after: (_m, _c, s) => ({ state: s }),
      final: (m) => (m.read(k.layout.data, 8) === 6n ? [] : [{ invariant: 'result', detail: `result ${m.read(k.layout.data, 8)}` }]),
      key: () => '',
    };
    const r = search(k.m, { maxDepth: 20, events: [{ name: 'nmi', kind: 'nmi', budget: 1 }], monitors: [result], done: allHalted });
    expect(r.verdict).toBe('violated');
    const v = r.violations[0]!;
    expect(v.schedule.filter((c) => c.kind === 'event')).toEqual([{ kind: 'event', source: 'nmi', cpu: 0 }]);
    // The NMI must land after `mov $5,%rbx` (3 steps in) or after the `add` (4 steps in), nowhere else.
    expect([3, 4]).toContain(v.schedule.findIndex((c) => c.kind === 'event'));
    const two = search(k.m, { maxDepth: 20, events: [{ name: 'nmi', kind: 'nmi', budget: 2 }], monitors: [result], done: allHalted });
    expect(two.states).toBeGreaterThan(r.states);
  });

  it('a declared fault point fires only where it is enabled', () => {
    const k = clobberingNmi();
    const at = k.m.address('start') + 2n;
    const fault = { name: 'zap', kind: 'fault', budget: 1, enabled: (m: Machine, cpu: number) => m.cpus[cpu]!.rip === at, fire: (m: Machine, cpu: number) => { m.cpus[cpu]!.setReg('rbx', 7n); } } as const;
    const r = search(k.m, { maxDepth: 20, events: [fault], invariants: [{ name: 'rbx-not-7', reads: [0], check: (m) => (m.cpus[0]!.reg('rbx') === 7n ? 'rbx is 7' : undefined) }], done: allHalted });
    expect(r.violations).toHaveLength(1);
    expect(r.violations[0]!.schedule).toEqual([{ kind: 'step', cpu: 0 }, { kind: 'step', cpu: 0 }, { kind: 'event', source: 'zap', cpu: 0 }]);
  });
});
