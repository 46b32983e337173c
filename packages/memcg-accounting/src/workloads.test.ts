import { describe, expect, it } from 'vitest';
import { compareDesigns } from './compare.js';
import { churnWorkload, isolationWorkload, manyCgroupsWorkload } from './workloads.js';

describe('workloads', () => {
  it('are deterministic: the same seed gives the same figures', () => {
    expect(isolationWorkload('costa', { seed: 7, scale: 0.1 })).toEqual(isolationWorkload('costa', { seed: 7, scale: 0.1 }));
    expect(churnWorkload('souhlal', { seed: 7, scale: 0.05 })).toEqual(churnWorkload('souhlal', { seed: 7, scale: 0.05 }));
  });

  it('per-cgroup caches multiply with cgroups in Souhlal, not in the shared-cache design', () => {
    const souhlal = manyCgroupsWorkload('souhlal', { scale: 0.1 });
    const objcg = manyCgroupsWorkload('objcg', { scale: 0.1 });
    expect(souhlal.caches).toBeGreaterThan(objcg.caches * 5);
    expect(objcg.utilisation).toBeGreaterThan(souhlal.utilisation);
  });

  it('after churn only today\'s design keeps no dead cgroup alive', () => {
    const r = compareDesigns({ scale: 0.1 }, ['churn']).results;
    const by = (d: string) => r.find((x) => x.design === d);
    expect(by('objcg')?.deadCgroupsAlive).toBe(0);
    expect((by('souhlal')?.deadCaches ?? 0) + (by('costa')?.deadCaches ?? 0)).toBeGreaterThan(0);
  });
});
