import { describe, expect, it } from 'vitest';
import { imm, qword, reg } from '../asm/operands.js';
import { MSR } from '../machine/arch.js';
import type { Machine } from '../machine/machine.js';
import { buildCounterModel, buildNmiToyModel } from '../testing/counter-model.js';
import { kit, LAYOUT64 } from '../testing/kit.js';
import { FrontierCache } from './frontier-cache.js';
import { runJob, runPlan, searchInJobs } from './jobs.js';
import type { Invariant, Monitor, SearchOptions, SearchResult } from './model.js';
import { SearchPlan } from './plan.js';
import { search } from './search-api.js';
import { checkSchedule } from './check-schedule.js';
import { VisitedSet } from './visited-set.js';

/** NMIs delivered so far, as a monitor (its state is part of the visited key). */
const delivered: Monitor<number> = {
  names: [],
  reads: [0],
  init: () => 0,
  after: (m, _c, s) => {
    const n = m.cpus[0]!.nmiCounters.delivered;
    return { state: n === s ? s : n };
  },
  key: (s) => String(s),
};

/** The NMI toy with a memory-only invariant (the handler's count) and a register one. */
function nmiModel(memoryOnly: boolean, calls = { memory: 0 }): { machine: Machine; options: SearchOptions } {
  const { machine, options } = buildNmiToyModel({ length: 10, nmis: 2 });
  const count: Invariant = {
    name: 'two-nmis',
    memoryOnly,
    reads: [],
    check: (m) => {
      calls.memory++;
      return m.read(LAYOUT64.data, 8) >= 2n ? 'the handler ran twice' : undefined;
    },
  };
  const rbx: Invariant = { name: 'rbx', reads: [0], check: (m) => (m.cpus[0]!.reg('rbx') === 20n ? 'rbx is 20' : undefined) };
  return { machine, options: { ...options, monitors: [delivered], invariants: [count, rbx] } };
}

const whole = (r: SearchResult) => ({ verdict: r.verdict, states: r.states, transitions: r.transitions, violations: r.violations });
const verdicts = (r: SearchResult) => ({ verdict: r.verdict, violations: r.violations });

describe('the engine is invariant under its speed-ups', () => {
  it('snapshot placement does not change the states, transitions or counterexamples (with and without the reduction)', () => {
    for (const build of [() => nmiModel(true), () => buildCounterModel({ cpus: 3, work: 2, atomic: false })]) {
      const { machine, options } = build();
      const ref = whole(search(machine, { ...options, checkpointEvery: 1 }));
      expect(ref.violations.length).toBeGreaterThan(0);
      for (const every of [2, 5, 24, 1000]) expect(whole(search(machine, { ...options, checkpointEvery: every }))).toEqual(ref);
    }
  });

  it('keying one-choice nodes only every few depths finds the same violations, as short, searching a few states more at most', () => {
    for (const build of [() => nmiModel(true), () => nmiModel(false), () => buildCounterModel({ cpus: 3, work: 2, atomic: false }), () => buildNmiToyModel({ length: 30, nmis: 2 })]) {
      const { machine, options } = build();
      const home = machine.snapshot();
      const exact = search(machine, { ...options, keyEvery: 1 });
      const shape = (r: SearchResult) => ({ verdict: r.verdict, exhaustive: r.exhaustive, violations: r.violations.map((v) => [v.invariant, v.schedule.length]) });
      for (const keyEvery of [2, 8, 1000]) {
        const r = search(machine, { ...options, keyEvery });
        expect(shape(r)).toEqual(shape(exact));
        expect(r.states).toBeGreaterThanOrEqual(exact.states);
        // Each schedule is a real path to its violation (the run's path was kept right across the levels it skipped).
        for (const v of r.violations) {
          machine.restore(home);
          expect(checkSchedule(machine, options, v.schedule).map((f) => f.invariant)).toContain(v.invariant);
        }
        machine.restore(home);
      }
    }
  });

  it('rejects a keyEvery that is not a positive integer', () => {
    const { machine, options } = nmiModel(true);
    for (const keyEvery of [0, -1, 1.5, Number.NaN]) expect(() => search(machine, { ...options, keyEvery })).toThrow(/keyEvery must be a positive integer/);
  });

  it('skipping a memory-only invariant where memory did not change finds the same, with fewer checks', () => {
    const skipped = { memory: 0 };
    const all = { memory: 0 };
    const a = nmiModel(true, skipped);
    const b = nmiModel(false, all);
    const ra = whole(search(a.machine, a.options));
    expect(ra).toEqual(whole(search(b.machine, b.options)));
    expect(ra.violations.map((v) => v.invariant)).toContain('two-nmis');
    expect(skipped.memory).toBeLessThan(all.memory);
  });

  it('a plan in jobs leaves the machine at its start, and its counterexamples replay on it', async () => {
    for (const chunk of [1, 3, 7]) {
      const { machine, options } = nmiModel(true);
      const before = machine.hash();
      const ref = search(machine, options);
      const split = await searchInJobs(machine, options, new SearchPlan({}, chunk));
      expect(machine.hash()).toBe(before);
      expect(verdicts(split)).toEqual(verdicts(ref));
      const home = machine.snapshot();
      for (const v of split.violations) {
        expect(checkSchedule(machine, options, v.schedule).map((f) => f.invariant)).toContain(v.invariant);
        machine.restore(home);
      }
    }
  });

  it('a frontier cache that holds one anchor gives the same jobs as none, states included', async () => {
    const { machine, options } = nmiModel(true);
    const before = machine.hash();
    const drive = (cache: FrontierCache | undefined) => {
      const visited = new VisitedSet();
      return runPlan(new SearchPlan({}, 3), (jobs) => Promise.resolve(runJob(machine, options, jobs[0]!, 3, visited, cache)));
    };
    const none = whole(await drive(undefined));
    const small = new FrontierCache(1);
    expect(whole(await drive(small))).toEqual(none);
    expect(whole(await drive(new FrontierCache()))).toEqual(none);
    expect(machine.hash()).toBe(before);
  });
});

/** CPU 0 does register work and sends CPU 1 an IPI (which counts itself in memory); CPU 1 does register work. Every final outcome is reported. */
function ipiModel(): { machine: Machine; options: SearchOptions } {
  const k = kit({ arch: 'x86_64', cpus: 2 });
  const a = k.asm();
  a.label('sender').add(reg.rbx, imm(1)).add(reg.rbx, imm(2));
  a.mov(reg.ecx, imm(MSR.X2APIC_ICR)).mov(reg.eax, imm(0x40)).mov(reg.edx, imm(1)).wrmsr().hlt();
  a.label('worker').sti().add(reg.rbx, imm(1)).mov(reg.rax, qword(k.layout.data)).add(reg.rbx, imm(2)).mov(qword(k.layout.data + 8n), reg.rax);
  a.label('idle').hlt().jmp('idle');
  a.label('ipi').add(qword(k.layout.data), imm(1)).iretq();
  k.m.loadCode(a.assemble());
  k.m.setGate(0x40, { handler: 'ipi' });
  k.m.start(0, { rip: 'sender', rsp: k.stackTop(0) });
  k.m.start(1, { rip: 'worker', rsp: k.stackTop(1) });
  const outcome: Monitor<null> = {
    names: [],
    reads: [],
    init: () => null,
    after: (_m, _c, s) => ({ state: s }),
    final: (m) => [{ invariant: `outcome ${m.read(k.layout.data, 8)},${m.read(k.layout.data + 8n, 8)}`, detail: 'reached' }],
    key: () => '',
  };
  return { machine: k.m, options: { maxDepth: 60, monitors: [outcome], done: (m) => m.cpus.every((c) => c.status === 'halted') } };
}

describe('a job that withdraws the reduction', () => {
  it('explores in full on a visited set that other jobs share, as the whole search does', async () => {
    const { machine, options } = ipiModel();
    const ref = search(machine, options);
    expect(ref.reductionWithdrawn).toBe(true);
    const outcomes = (r: SearchResult) => r.violations.map((v) => v.invariant).sort();
    expect(outcomes(ref).length).toBeGreaterThan(1);
    // One job as deep as the search is the whole search on a shared visited set: the same states.
    const one = await searchInJobs(machine, options, new SearchPlan({}, options.maxDepth));
    expect(one.reductionWithdrawn).toBe(true);
    expect(one.states).toBe(ref.states);
    expect(outcomes(one)).toEqual(outcomes(ref));
    expect(outcomes(await searchInJobs(machine, options, new SearchPlan({}, 2)))).toEqual(outcomes(ref));
  });

  it('on a visited table shared by threads, searches the job again on a set of its own, and finds every outcome', async () => {
    const { machine, options } = ipiModel();
    const outcomes = (r: SearchResult) => r.violations.map((v) => v.invariant).sort();
    const ref = search(machine, options);
    // Two threads' views of one table (a pool's), taking turns at the jobs: one thread's cut-short run cannot take its keys out again.
    for (const chunk of [2, options.maxDepth]) {
      const buffer = VisitedSet.sharedBuffer(100_000);
      const views = [new VisitedSet(undefined, buffer), new VisitedSet(undefined, buffer)];
      let turn = 0;
      const r = await runPlan(new SearchPlan({}, chunk), (jobs) => Promise.resolve(runJob(machine, options, jobs[0]!, chunk, views[turn++ % 2])));
      expect(r.reductionWithdrawn).toBe(true);
      expect(outcomes(r)).toEqual(outcomes(ref));
      // One job as deep as the search: every state the whole search reaches, those its cut-short run had added included.
      if (chunk === options.maxDepth) expect(r.states).toBe(ref.states);
    }
  });
});
