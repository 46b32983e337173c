import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { runNmiScenario, scenarioSpec } from '@kernsim/kernel';
import type { NmiInjection, ScenarioSpec } from '@kernsim/kernel';
import { nestedEntry } from './nested-entry.js';

/** One CPU whose first NMI faults on the vmalloc buffer (and hits a kprobe), then more NMIs at the given delays after that #PF's iret. */
function spec(delays: readonly number[]): ScenarioSpec {
  const base = scenarioSpec('perf-vmalloc');
  const more: NmiInjection[] = delays.map((delay) => ({ cpu: 0, source: 'sampler', arrival: { kind: 'after-exception-iret', delay } }));
  return { ...base, cpus: [base.cpus[0]!], kprobes: ['nmi_traced_fn'], injections: [{ cpu: 0, source: 'sampler', arrival: { kind: 'at-step', step: 40 } }, ...more] };
}

describe('the 3.3 entry against any arrival of up to four more NMIs (property)', () => {
  it('never crashes, never runs the handler inside itself, and accounts for every NMI', () => {
    const entry = nestedEntry();
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 600 }), { minLength: 1, maxLength: 4 }), (delays) => {
        const r = runNmiScenario(entry, 'perf-vmalloc', { spec: spec(delays), events: false, captureStacks: false });
        expect(r.crashed, r.crashReason).toBe(false);
        expect(r.accountedFor).toBe(true);
        expect(r.deepestHandlerNesting).toBe(1);
        expect(r.nmis.raised).toBe(delays.length + 1);
        expect(r.nmis.raised).toBe(r.nmis.handled + r.nmis.mergedByHardware + r.nmis.mergedBySoftware);
      }),
      { numRuns: 60, seed: 0x33 },
    );
  });
});
