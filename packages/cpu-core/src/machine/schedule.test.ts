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
});
