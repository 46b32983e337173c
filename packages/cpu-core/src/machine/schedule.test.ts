import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encode, ScheduleLog } from './schedule.js';
import type { ScheduleEntry } from './schedule.js';

describe('ScheduleLog', () => {
  it('stores a round-robin run over all CPUs as one entry and one skipped CPU as two per round', () => {
    const all = new ScheduleLog(4096);
    for (let s = 0; s < 10_000_000; s++) all.step(s % 4096);
    expect(all.length).toBe(10_000_000);
    expect(all.runs).toBe(1);
    const skip = new ScheduleLog(100);
    for (let round = 0; round < 1000; round++) for (let c = 0; c < 100; c++) if (c !== 42) skip.step(c);
    expect(skip.runs).toBeLessThanOrEqual(2 * 1000 + 1);
  });

  it('lists exactly what was recorded, in order, for any mix of steps, bursts and events', () => {
    const entry = fc.oneof(
      fc.record({ kind: fc.constant('step' as const), cpu: fc.integer({ min: 0, max: 3 }), n: fc.integer({ min: 1, max: 4 }) }),
      fc.record({ kind: fc.constant('nmi' as const), cpu: fc.integer({ min: 0, max: 3 }), n: fc.constant(1) }),
      fc.record({ kind: fc.constant('irq' as const), cpu: fc.integer({ min: 0, max: 3 }), vector: fc.integer({ min: 0, max: 255 }), n: fc.constant(1) }),
    );
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 60 }), (xs) => {
        const log = new ScheduleLog(4);
        const want: ScheduleEntry[] = [];
        for (const x of xs) {
          if (x.kind === 'step') {
            if (x.n === 1) log.step(x.cpu);
            else log.record(x.cpu, x.n);
            for (let i = 0; i < x.n; i++) want.push({ kind: 'step', cpu: x.cpu });
          } else if (x.kind === 'nmi') {
            log.record(encode({ kind: 'nmi', cpu: x.cpu }), 1);
            want.push({ kind: 'nmi', cpu: x.cpu });
          } else {
            log.record(encode({ kind: 'irq', cpu: x.cpu, vector: x.vector }), 1);
            want.push({ kind: 'irq', cpu: x.cpu, vector: x.vector });
          }
        }
        expect(log.entries()).toEqual(want);
        expect(log.length).toBe(want.length);
        // Cutting back to a mark taken halfway gives the first half.
        const half = new ScheduleLog(4);
        const mid = Math.floor(want.length / 2);
        for (const e of want.slice(0, mid)) half.record(encode(e), 1);
        const mark = half.mark();
        for (const e of want.slice(mid)) half.record(encode(e), 1);
        half.cut(mark);
        expect(half.entries()).toEqual(want.slice(0, mid));
      }),
    );
  });

  it('counts the steps of a run in progress wherever the log is marked, cut, read or switched', () => {
    // Three CPUs: steps 0 and 1 make a stride-1 run, step 2 extends it without touching the run's slot.
    const run = (): ScheduleLog => {
      const log = new ScheduleLog(3);
      for (const c of [0, 1, 2]) log.step(c);
      return log;
    };
    const cpus = (log: ScheduleLog): number[] => log.entries().map((e) => e.cpu);
    // A mark taken mid-run holds the step in progress.
    const a = run();
    const mark = a.mark();
    a.step(0);
    a.step(1);
    a.cut(mark);
    expect(a.length).toBe(3);
    expect(cpus(a)).toEqual([0, 1, 2]);
    // A cut drops a step in progress that came after its mark.
    const b = new ScheduleLog(3);
    b.step(0);
    b.step(1);
    const early = b.mark();
    b.step(2);
    b.cut(early);
    expect(b.length).toBe(2);
    b.step(2);
    expect(cpus(b)).toEqual([0, 1, 2]);
    // Switched off and on, the log continues from the step in progress: CPU 2 again is a new run.
    const c = run();
    c.enabled = false;
    c.step(0);
    c.enabled = true;
    c.step(2);
    expect(c.length).toBe(4);
    expect(cpus(c)).toEqual([0, 1, 2, 2]);
    // A burst after the step in progress goes after it.
    const d = run();
    d.record(0, 3);
    expect(cpus(d)).toEqual([0, 1, 2, 0, 0, 0]);
    expect(d.length).toBe(6);
  });

  it('keeps round-robin runs exact across marks, cuts to any of them and recording switched off and on', () => {
    // Steps mostly go to the next CPU (the round-robin fast path), sometimes jump; marks are
    // taken mid-run and cut to in any order, including a mark on a branch an earlier cut left
    // (a restore of S1 then of a later S2); recording is switched off and on between steps.
    const op = fc.oneof(
      { weight: 4, arbitrary: fc.constant({ kind: 'next' as const }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('jump' as const), cpu: fc.integer({ min: 0, max: 2 }) }) },
      { weight: 2, arbitrary: fc.constant({ kind: 'mark' as const }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('cut' as const), back: fc.nat() }) },
      { weight: 1, arbitrary: fc.constant({ kind: 'toggle' as const }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('burst' as const), n: fc.integer({ min: 2, max: 5 }) }) },
    );
    fc.assert(
      fc.property(fc.array(op, { minLength: 20, maxLength: 160 }), (ops) => {
        const log = new ScheduleLog(3);
        let want: number[] = [];
        const marks: { mark: ReturnType<ScheduleLog['mark']>; want: number[] }[] = [];
        let cpu = 0;
        let on = true;
        for (const o of ops) {
          if (o.kind === 'next' || o.kind === 'jump') {
            cpu = o.kind === 'next' ? (cpu + 1) % 3 : o.cpu;
            log.step(cpu);
            if (on) want.push(cpu);
          } else if (o.kind === 'burst') {
            log.record(cpu, o.n);
            if (on) for (let i = 0; i < o.n; i++) want.push(cpu);
          } else if (o.kind === 'mark') marks.push({ mark: log.mark(), want: want.slice() });
          else if (o.kind === 'cut' && marks.length > 0) {
            const m = marks[o.back % marks.length]!;
            log.cut(m.mark);
            want = m.want.slice();
            expect(log.entries().map((e) => e.cpu)).toEqual(want);
          } else if (o.kind === 'toggle') {
            on = !on;
            log.enabled = on;
          }
          expect(log.length).toBe(want.length);
        }
        expect(log.entries().map((e) => e.cpu)).toEqual(want);
      }),
    );
  });

  it('brings back a schedule a cut removed, however many runs it held, while a mark copies only the last few', () => {
    // Each jump starts a run, so 100 jumps make 100 runs, most of them frozen in shared blocks.
    const log = new ScheduleLog(8);
    const jumps = (from: number, n: number): void => {
      for (let i = 0; i < n; i++) log.record(from + (i % 2), 2);
    };
    jumps(0, 30);
    const s1 = log.mark();
    const atS1 = log.entries();
    jumps(4, 70);
    const s2 = log.mark();
    const atS2 = log.entries();
    expect(log.runs).toBe(100);
    expect(s2.codes.length).toBeLessThanOrEqual(16);
    log.cut(s1);
    jumps(6, 5);
    log.cut(s2);
    expect(log.entries()).toEqual(atS2);
    expect(log.length).toBe(200);
    log.cut(s1);
    expect(log.entries()).toEqual(atS1);
    expect(log.runs).toBe(30);
  });
});
