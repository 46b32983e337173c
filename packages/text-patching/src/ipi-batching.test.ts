import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BRISTOT_2019, BRISTOT_2019_CPUS, ipiBatchingCounts } from './ipi-batching.js';
import { runPatch } from './run.js';

describe("IPIs of the breakpoint method against the kernel's published count", () => {
  const rows = ipiBatchingCounts();

  it("gives every other CPU the letter's 12 and 168 IPIs one entry at a time, and 3 batched, on its 24-CPU machine", () => {
    expect(rows).toHaveLength(2 * BRISTOT_2019.length);
    for (const r of rows) {
      expect(r.completed).toBe(true);
      expect(r.cpus).toBe(BRISTOT_2019_CPUS);
      // every other CPU took exactly the published number: none more, none fewer
      expect([r.perCpuMin, r.perCpuMax]).toEqual([r.published, r.published]);
      // the machine's APICs saw as many as the code sent, and CPU 0 sent to no one but the others
      expect(r.delivered).toBe(r.sent);
      expect(r.delivered).toBe(r.published * (r.cpus - 1));
    }
    const at = (sites: number, batching: 'each' | 'batch') => rows.find((r) => r.sites === sites && r.batching === batching)!;
    expect(at(4, 'each').perCpuMax).toBe(12);
    expect(at(56, 'each').perCpuMax).toBe(168);
    expect(at(56, 'batch').perCpuMax).toBe(3);
    // batching saves most of the update's time, as the letter measured (57 ms against 1.4 ms)
    expect(at(56, 'each').patchCycles).toBeGreaterThan(10 * at(56, 'batch').patchCycles);
  });

  it('follows the rule for any machine and key: 3 IPIs a site to each other CPU one at a time, 3 a batch', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 6 }), fc.integer({ min: 1, max: 6 }), fc.constantFrom('each' as const, 'batch' as const), (cpus, sites, batching) => {
        const r = runPatch({ method: 'breakpoint', user: 'static-key', cpus, sites, batching, settle: 1 });
        expect(r.completed).toBe(true);
        const perCpu = batching === 'each' ? 3 * sites : 3;
        for (const c of r.perCpu.slice(1)) expect(c.ipisTaken).toBe(perCpu);
        expect(r.perCpu[0]!.ipisTaken).toBe(0);
        expect(r.ipisDelivered).toBe(perCpu * (cpus - 1));
      }),
      { numRuns: 12, seed: 16 },
    );
  });
});
