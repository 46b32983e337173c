import { describe, expect, it } from 'vitest';
import { VECTOR } from '@kernsim/cpu-core';
import { kprobeHitCosts } from './kprobe-costs.js';
import { runPatch } from './run.js';
import { TextPatchingError } from './errors.js';

describe('kprobe per-hit cost, measured in the simulation', () => {
  it.each(['x86_64', 'i386'] as const)('%s: int3 with a single step > boosted > optimized, each hit once per call', (arch) => {
    const [int3, boosted, optimized] = kprobeHitCosts({ arch, calls: 16 });
    expect([int3!.kind, boosted!.kind, optimized!.kind]).toEqual(['int3', 'boosted', 'optimized']);
    for (const r of [int3!, boosted!, optimized!]) expect(r.hits).toBe(16);
    // the unboosted probe: one int3 and one #DB (the TF single step of the copy) per hit
    expect(int3!.int3Traps).toBe(16);
    expect(int3!.singleSteps).toBe(16);
    expect(boosted!.int3Traps).toBe(16);
    expect(boosted!.singleSteps).toBe(0);
    expect(optimized!.int3Traps + optimized!.singleSteps).toBe(0);
    expect(int3!.cyclesPerHit).toBeGreaterThan(boosted!.cyclesPerHit);
    expect(boosted!.cyclesPerHit).toBeGreaterThan(optimized!.cyclesPerHit);
    expect(optimized!.cyclesPerHit).toBeGreaterThan(0);
    // the single step costs about one more exception delivery and iret (200 + 168 cycles)
    expect(int3!.cyclesPerHit - boosted!.cyclesPerHit).toBeGreaterThan(300);
  });

  it('rejects a bad call count', () => {
    expect(() => kprobeHitCosts({ calls: 0 })).toThrow(TextPatchingError);
  });
});

describe('kprobes in runPatch: boosting as 3.3 does it', () => {
  const singleSteps = (r: ReturnType<typeof runPatch>): number => r.machine.cpus.reduce((s, c) => s + (c.counters.delivered[VECTOR.DB] ?? 0), 0);
  it('afterStep (3.3 without CONFIG_PREEMPT): each probe is single-stepped on its first hit only; never: on every hit', () => {
    const after = runPatch({ method: 'breakpoint', user: 'kprobe', cpus: 2, sites: 4, startAfter: 8 });
    const never = runPatch({ method: 'breakpoint', user: 'kprobe', cpus: 2, sites: 4, startAfter: 8, kprobeBoost: 'never' });
    for (const r of [after, never]) {
      expect(r.completed).toBe(true);
      expect(r.strayInt3 + r.gpFaults).toBe(0);
    }
    // four probes, the ones not optimized by the patch keep trapping: afterStep steps each once
    expect(singleSteps(after)).toBe(4);
    expect(singleSteps(never)).toBeGreaterThan(8);
    expect(singleSteps(never)).toBeLessThanOrEqual(never.kprobeHits);
  });
});
