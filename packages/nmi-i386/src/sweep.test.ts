import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nmiAccountingErrors, prepareNmiScenario } from '@kernsim/kernel';
import { latchEntry } from './latch-entry.js';

describe('a seeded sweep of second-NMI arrival points in the watchdog dump (i386 latch)', () => {
  // 1600 runs from one boot snapshot, in chunks so each test stays short on a loaded machine.
  const p = prepareNmiScenario(latchEntry(), 'watchdog-dump', { small: true });
  const RUNS = 400;
  // Seeded arrival points from fast-check's generator: no PRNG of our own in a test.
  const delays = fc.sample(fc.integer({ min: 0, max: 5999 }), { seed: 0x1386, numRuns: 4 * RUNS });
  for (let chunk = 0; chunk < 4; chunk++) {
    it(`runs ${chunk * RUNS}-${(chunk + 1) * RUNS - 1}: no crash, the dump complete, exact accounting, the handler never nests`, () => {
      const failures: number[] = [];
      let nested = 0;
      for (let i = 0; i < RUNS; i++) {
        const delay = delays[chunk * RUNS + i]!;
        const r = p.run(delay, { events: false, captureStacks: false });
        if (r.deepestNesting > 1) nested++;
        if (r.crashed || !r.accountedFor || r.dump?.complete !== true || r.deepestHandlerNesting !== 1 || nmiAccountingErrors(r).length > 0) {
          failures.push(delay);
        }
      }
      expect(failures).toEqual([]);
      expect(nested).toBeGreaterThan(RUNS / 4);
    });
  }
});
