import { describe, expect, it } from 'vitest';
import { breakpointStates, hex } from './forms.js';
import { runPatch } from './run.js';
import type { PatchResult } from './run.js';

const figures = (r: PatchResult): unknown => ({ cycles: r.patchCycles, steps: r.steps, perCpu: r.perCpu, final: r.finalBytes });

describe('observeSites: every CPU at every site', () => {
  const r = runPatch({ method: 'breakpoint', cpus: 6, sites: 3, observe: true, observeSites: true });
  const obs = r.siteObservations ?? [];

  it("agrees with the trace-based view of CPU 1 at site 0, and with CPU 0's bytes at each sync", () => {
    expect(obs.map((o) => o.site)).toEqual([0, 1, 2]);
    expect(obs[0]!.byCpu[1]!.map(hex)).toEqual(r.observed.map(hex));
    expect(obs[0]!.atSyncs.map(hex)).toEqual(r.atSyncs.map(hex));
  });

  it("shows each CPU's own way through the breakpoint method's states, ending at the new instruction", () => {
    let watched = 0;
    for (const [i, o] of obs.entries()) {
      const site = r.sites[i]!;
      const states = breakpointStates(site.oldBytes, site.newBytes).map(hex);
      expect(o.byCpu.length).toBe(6);
      expect(o.atSyncs.map(hex)).toEqual(states.slice(1));
      for (const seen of o.byCpu.slice(1)) {
        if (seen.length === 0) continue;
        watched++;
        const order = seen.map((b) => states.indexOf(hex(b)));
        expect(order.every((k, j) => k >= 0 && (j === 0 || k > order[j - 1]!))).toBe(true);
        expect(hex(seen.at(-1)!)).toBe(hex(site.newBytes));
      }
    }
    // CPUs 1..5 each run all three sites' functions in their loop.
    expect(watched).toBe(15);
  });

  it('observing changes nothing the machine computes', () => {
    const plain = runPatch({ method: 'breakpoint', cpus: 6, sites: 3, observe: true });
    expect(figures(plain)).toEqual(figures(r));
    expect(plain.siteObservations).toBeUndefined();
  });
});
