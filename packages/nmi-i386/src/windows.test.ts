import { describe, expect, it } from 'vitest';
import { nmiAccountingErrors, scenarioSpec } from '@kernsim/kernel';
import type { Kernel, ScenarioResult, ScenarioSpec } from '@kernsim/kernel';
import { runScenario } from './scenarios.js';

const marks = (r: ScenarioResult): string[] => r.events.filter((e) => e.kind === 'landmark').map((e) => e.text);

/** One CPU running getpid, the sampler's buffer not yet in its page table: the first NMI faults. */
function oneCpu(extra: Partial<ScenarioSpec> = {}): ScenarioSpec {
  const base = scenarioSpec('perf-vmalloc');
  return { ...base, cpus: [base.cpus[0]!], injections: [{ cpu: 0, source: 'sampler', arrival: { kind: 'at-step', step: 40 } }], ...extra };
}

/** Raises one sampler NMI the `occurrence`-th time CPU 0 is about to execute `symbol`. */
function atSymbol(symbol: string, occurrence = 1): (k: Kernel, cpu: number) => 'sampler' | undefined {
  let seen = 0;
  return (k, cpu) => {
    if (cpu !== 0 || k.machine.cpus[0]!.rip !== k.symbol(symbol)) return undefined;
    seen++;
    return seen === occurrence ? 'sampler' : undefined;
  };
}

describe('the i386 latch at its edges', () => {
  it('an NMI after the cmpxchg set NOT_RUNNING but before iret runs as a new, unnested NMI', () => {
    const r = runScenario('perf-vmalloc', { spec: oneCpu(), probe: atSymbol('nmi_iret') });
    expect(r.crashed).toBe(false);
    expect(r.accountedFor).toBe(true);
    expect(r.nmis.handled).toBe(2);
    expect(r.deepestHandlerNesting).toBe(1);
    expect(marks(r)).not.toContain('nmi_latched');
  });

  it('an NMI while the first reruns the handler (after the #PF\'s iret) is latched again and costs one more rerun', () => {
    const spec = oneCpu({
      injections: [
        { cpu: 0, source: 'sampler', arrival: { kind: 'at-step', step: 40 } },
        { cpu: 0, source: 'sampler', arrival: { kind: 'after-exception-iret', delay: 3 } },
      ],
    });
    // perf_sample's 2nd execution is inside the rerun the first latched NMI asked for.
    const r = runScenario('perf-vmalloc', { spec, probe: atSymbol('perf_sample', 2) });
    expect(r.crashed).toBe(false);
    expect(r.accountedFor).toBe(true);
    expect(r.nmis.raised).toBe(3);
    expect(r.deepestHandlerNesting).toBe(1);
    expect(marks(r).filter((m) => m === 'nmi_latched')).toHaveLength(2);
    expect(r.nmis.handled).toBe(3);
    expect(nmiAccountingErrors(r)).toEqual([]);
  });

  it('without the latch, the nested NMI runs the handler inside the first (on the same stack, below it)', () => {
    const spec = oneCpu({
      injections: [
        { cpu: 0, source: 'sampler', arrival: { kind: 'at-step', step: 40 } },
        { cpu: 0, source: 'sampler', arrival: { kind: 'after-exception-iret', delay: 3 } },
      ],
    });
    const bare = runScenario('perf-vmalloc', { spec, latch: false });
    expect(bare.deepestHandlerNesting).toBe(2);
    const latched = runScenario('perf-vmalloc', { spec });
    expect(latched.deepestHandlerNesting).toBe(1);
    expect(latched.accountedFor).toBe(true);
  });
});
