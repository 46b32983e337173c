// The rule both 3.3 designs must keep, whatever the timing: the first NMI faults on the perf
// sampler's vmalloc'd buffer (and hits a kprobe), that exception's iret unblocks NMIs, and up
// to four more NMIs arrive at any delay after it. The x86_64 3.3 entry (nested) and the i386
// nmi_state latch must never crash, never run the handler inside itself, and account for
// every NMI raised: handled, or merged by the hardware's one-deep latch or by software.
import { nmiAccountingErrors, runNmiScenario, scenarioSpec } from '@kernsim/kernel';
import type { NmiEntry, NmiInjection, ScenarioSpec } from '@kernsim/kernel';
import { latchEntry } from '@kernsim/nmi-i386';
import { nestedEntry } from '@kernsim/nmi-x86_64';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

function spec(delays: readonly number[]): ScenarioSpec {
  const base = scenarioSpec('perf-vmalloc');
  const more: NmiInjection[] = delays.map((delay) => ({
    cpu: 0,
    source: 'sampler',
    arrival: { kind: 'after-exception-iret', delay },
  }));
  return {
    ...base,
    cpus: [base.cpus[0]!],
    kprobes: ['nmi_traced_fn'],
    injections: [{ cpu: 0, source: 'sampler', arrival: { kind: 'at-step', step: 40 } }, ...more],
  };
}

const entries: readonly (readonly [string, () => NmiEntry])[] = [
  ['the x86_64 3.3 entry', nestedEntry],
  ['the i386 nmi_state latch', latchEntry],
];

describe.each(entries)('%s against any arrival of up to four more NMIs (property)', (_name, makeEntry) => {
  it('never crashes, never nests the handler, and accounts for every NMI', () => {
    const entry = makeEntry();
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 600 }), { minLength: 1, maxLength: 4 }), (delays) => {
        const r = runNmiScenario(entry, 'perf-vmalloc', { spec: spec(delays), events: false, captureStacks: false });
        expect(r.crashed, r.crashReason).toBe(false);
        expect(r.accountedFor).toBe(true);
        expect(r.deepestHandlerNesting).toBe(1);
        expect(r.nmis.raised).toBe(delays.length + 1);
        expect(nmiAccountingErrors(r)).toEqual([]);
      }),
      { numRuns: 60, seed: 0x33 },
    );
  });
});
