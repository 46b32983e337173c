import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JobQueue } from './job-queue.js';

describe('the job queue', () => {
  it('behaves as an array used first in, first out, across compactions (property)', () => {
    const op = fc.oneof(
      fc.constant({ kind: 'shift' as const }),
      fc.integer({ min: 0, max: 10_000 }).map((n) => ({ kind: 'push' as const, n, times: 1 })),
      fc.integer({ min: 1, max: 6000 }).map((times) => ({ kind: 'push' as const, n: 0, times })),
      fc.integer({ min: 0, max: 10_000 }).map((n) => ({ kind: 'unshift' as const, n })),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), fc.array(fc.integer(), { maxLength: 20 }), (ops, start) => {
        const q = new JobQueue(start);
        const model = start.slice();
        let next = 1;
        for (const o of ops) {
          if (o.kind === 'shift') expect(q.shift()).toBe(model.shift());
          else if (o.kind === 'unshift') {
            q.unshift(o.n);
            model.unshift(o.n);
          } else {
            for (let k = 0; k < o.times; k++) {
              q.push(next);
              model.push(next++);
            }
            for (let k = 0; k < Math.min(o.times, 5000); k++) expect(q.shift()).toBe(model.shift());
          }
          expect(q.length).toBe(model.length);
        }
        expect(q.toArray()).toEqual(model);
      }),
      { numRuns: 60 },
    );
  });
});
