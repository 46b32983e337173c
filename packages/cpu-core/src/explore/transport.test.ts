import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Choice } from './model.js';
import { packJob, packPrefix, unpackJob, unpackPrefix } from './transport.js';

const choice: fc.Arbitrary<Choice> = fc.oneof(
  fc.record({ kind: fc.constant('step' as const), cpu: fc.integer({ min: 0, max: 300 }) }),
  fc.record({ kind: fc.constant('event' as const), source: fc.oneof(fc.constant('nmi'), fc.string()), cpu: fc.integer({ min: 0, max: 3 }) }),
);

describe('prefixes between the pool and its workers', () => {
  it('run-length encoding gives back the same schedule, whatever the source names hold', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(choice, choice.chain((c) => fc.constant(Array.from({ length: 50 }, () => c)))), { maxLength: 20 }), (parts) => {
        const prefix = parts.flat();
        expect(unpackPrefix(packPrefix(prefix))).toEqual(prefix);
      }),
    );
  });

  it('a deep one-CPU prefix travels as a few runs', () => {
    const prefix: Choice[] = [...Array.from({ length: 400 }, () => ({ kind: 'step' as const, cpu: 0 })), { kind: 'event', source: 'nmi', cpu: 0 }, ...Array.from({ length: 300 }, () => ({ kind: 'step' as const, cpu: 0 }))];
    expect(packPrefix(prefix)).toBe('s0*400,e0:nmi,s0*300');
  });

  it('a job handed back goes out again in the text it came in, and reads as a plain job in a checkpoint', () => {
    const prefix: Choice[] = [...Array.from({ length: 400 }, () => ({ kind: 'step' as const, cpu: 0 })), { kind: 'event', source: 'nmi', cpu: 0 }];
    const text = packPrefix(prefix);
    const job = unpackJob({ key: 'k', prefix: text });
    expect(packJob(job).prefix).toBe(text);
    expect(JSON.parse(JSON.stringify(job))).toEqual({ key: 'k', prefix });
    expect(job.prefix).toBe(job.prefix);
  });
});
