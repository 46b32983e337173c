import { describe, expect, it } from 'vitest';
import { Prng } from '@kernsim/prng';
import { nmiAccountingErrors, prepareNmiScenario } from '@kernsim/kernel';
import { naiveEntry } from './naive-entry.js';
import { nestedEntry } from './nested-entry.js';

describe('a seeded sweep of second-NMI arrival points in the watchdog dump (3.3 entry)', () => {
  // 2000 runs from one boot snapshot, in chunks so each test stays short on a loaded machine.
  const p = prepareNmiScenario(nestedEntry(), 'watchdog-dump', { small: true });
  // A seeded generator, so the sweep is the same on every run.
  const random = new Prng(0x5eed);
  const CHUNKS = 5;
  const RUNS = 400;
  for (let chunk = 0; chunk < CHUNKS; chunk++) {
    it(`runs ${chunk * RUNS}-${(chunk + 1) * RUNS - 1}: no crash, the dump always complete, every NMI accounted for`, () => {
      const failures: string[] = [];
      let nested = 0;
      for (let i = 0; i < RUNS; i++) {
        const delay = random.int(6000);
        const r = p.run(delay, { events: false, captureStacks: false });
        if (r.deepestNesting > 1) nested++;
        if (r.crashed || !r.accountedFor || r.dump?.complete !== true || nmiAccountingErrors(r).length > 0) {
          failures.push(`delay ${delay}: ${r.crashReason ?? 'accounting'}`);
        }
      }
      expect(failures).toEqual([]);
      // The sweep really exercised nesting (arrivals after the #PF's iret).
      expect(nested).toBeGreaterThan(RUNS / 4);
    });
  }
});

describe('the pre-3.3 entry under the same sweep', () => {
  it('under the naive entry every second NMI that comes while the first is running crashes the kernel, even one latched before the fault', () => {
    const p = prepareNmiScenario(naiveEntry(), 'watchdog-dump', { small: true });
    const alone = p.run(1_000_000);
    const nmiAt = alone.events.find((e) => e.kind === 'delivery' && e.text.startsWith('NMI #1'))?.step ?? 0;
    const doneAt = alone.events.find((e) => e.kind === 'iret' && e.text.includes('NMI done'))?.step ?? 0;
    expect(doneAt).toBeGreaterThan(nmiAt);
    const random = new Prng(7);
    let during = 0;
    let after = 0;
    for (let i = 0; i < 300; i++) {
      const delay = random.int(2 * (doneAt - nmiAt));
      const r = p.run(delay, { events: false, captureStacks: false });
      if (delay < doneAt - nmiAt - 2) {
        during++;
        expect(r.crashed).toBe(true);
      } else if (delay > doneAt - nmiAt + 2) {
        after++;
        expect(r.crashed).toBe(false);
      }
    }
    expect(during).toBeGreaterThan(50);
    expect(after).toBeGreaterThan(50);
  });
});
