import { describe, expect, it } from 'vitest';
import { nmiAccountingErrors, scenarioSpec } from '@kernsim/kernel';
import type { ScenarioResult } from '@kernsim/kernel';
import { runScenario } from './scenarios.js';
import { NmiI386Error } from './errors.js';

const marks = (r: ScenarioResult): string[] => r.events.filter((e) => e.kind === 'landmark').map((e) => e.text);

describe('i386 with the 3.3 nmi_state latch', () => {
  for (const id of ['watchdog-dump', 'perf-vmalloc', 'kprobe', 'storm'] as const) {
    it(`${id}: completes, every NMI accounted for, the handler never nests`, () => {
      const r = runScenario(id);
      expect(r.crashed).toBe(false);
      expect(r.accountedFor).toBe(true);
      expect(r.deepestHandlerNesting).toBe(1);
      expect(nmiAccountingErrors(r)).toEqual([]);
      if (id === 'watchdog-dump') expect(r.dump?.complete).toBe(true);
      // No IST: every frame goes below the running one, none lands on an active NMI's.
      expect(r.events.some((e) => e.kind === 'overwrite' || e.kind === 'corrupted-return')).toBe(false);
      if (id !== 'storm') {
        // The second NMI nested on the current stack, found the state EXECUTING and latched it.
        expect(r.deepestNesting).toBe(2);
        expect(marks(r)).toContain('nmi_latched');
        expect(marks(r).filter((m) => m === 'nmi_restart').length).toBeGreaterThanOrEqual(2);
      }
    });
  }

  it('reproduces the hardware rule: of two NMIs nested in one handler run, one is remembered and the other merged', () => {
    const base = scenarioSpec('perf-vmalloc');
    const spec = {
      ...base,
      cpus: [base.cpus[0]!],
      injections: [
        { cpu: 0, source: 'sampler' as const, arrival: { kind: 'at-step' as const, step: 40 } },
        { cpu: 0, source: 'sampler' as const, arrival: { kind: 'after-exception-iret' as const, delay: 3 } },
        { cpu: 0, source: 'sampler' as const, arrival: { kind: 'after-exception-iret' as const, delay: 60 } },
      ],
    };
    const latched = runScenario('perf-vmalloc', { spec });
    expect(latched.crashed).toBe(false);
    expect(latched.nmis.raised).toBe(3);
    expect(latched.nmis.handled).toBe(2);
    // Both later NMIs were latched while the first ran; one restart of the handler served them.
    expect(latched.nmis.mergedBySoftware).toBe(2);
    expect(latched.nmis.repeats).toBe(1);
    expect(latched.nmis.lost).toBe(0);
    expect(latched.accountedFor).toBe(true);
    expect(marks(latched).filter((m) => m === 'nmi_latched')).toHaveLength(2);
    // Without the latch the handler simply runs inside itself.
    const bare = runScenario('perf-vmalloc', { spec, latch: false });
    expect(bare.deepestHandlerNesting).toBe(2);
    expect(bare.nmis.handled).toBe(3);
  });

  it('has no debug-stack scenario', () => {
    expect(() => runScenario('debug-stack')).toThrow(NmiI386Error);
  });
});
