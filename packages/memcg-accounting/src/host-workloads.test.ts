import { describe, expect, it } from 'vitest';
import { compareDesigns } from './compare.js';
import { dyingCgroupSeries } from './dying-series.js';
import { HOST_CACHES, PROFILES } from './host-profiles.js';
import { hostWorkload } from './host-workloads.js';

describe('the modelled container host', () => {
  it('is deterministic: the same seed gives the same figures', () => {
    expect(hostWorkload('souhlal', { seed: 3, scale: 0.05 })).toEqual(hostWorkload('souhlal', { seed: 3, scale: 0.05 }));
  });

  it('reports every profile, and every cache a profile names exists', () => {
    const names = new Set(HOST_CACHES.map((c) => c.name));
    for (const p of PROFILES) for (const use of p.caches) expect(names.has(use.cache)).toBe(true);
    const r = hostWorkload('objcg', { scale: 0.05 });
    expect(r.cgroups.map((c) => c.name)).toEqual(['web', 'database', 'dns', 'build']);
    for (const c of r.cgroups) expect(c.used).toBeGreaterThan(0);
    expect(r.failedAllocs).toBe(0);
  });

  it('Costa charges only the dentries, to the memory counter; Souhlal and today charge most of what is used', () => {
    const costa = hostWorkload('costa', { scale: 0.05 });
    const souhlal = hostWorkload('souhlal', { scale: 0.05 });
    const objcg = hostWorkload('objcg', { scale: 0.05 });
    for (const c of costa.cgroups) {
      expect(c.counter).toBe('memory');
      expect(c.charged).toBeLessThan(c.used * 0.5);
    }
    const web = (r: typeof costa) => r.cgroups.find((c) => c.name === 'web');
    expect(web(souhlal)?.charged ?? 0).toBeGreaterThan((web(souhlal)?.used ?? 0) * 0.8);
    expect(web(objcg)?.charged ?? 0).toBeGreaterThan((web(objcg)?.used ?? 0) * 0.8);
    expect(souhlal.caches).toBeGreaterThan(objcg.caches);
  });
});

describe('the dying-cgroup series', () => {
  it('samples every 6 hours over whole days, deterministically', () => {
    const a = dyingCgroupSeries('costa', { seed: 5, scale: 0.05 });
    expect(a).toEqual(dyingCgroupSeries('costa', { seed: 5, scale: 0.05 }));
    expect(a.days).toBe(1);
    expect(a.samples.map((s) => s.hour)).toEqual([0, 6, 12, 18, 24]);
    expect(a.samples.at(-1)?.containersStarted ?? 0).toBeGreaterThan(100);
  });

  it('2012 designs keep removed memory cgroups alive; today only small obj_cgroups stay', () => {
    const series = compareDesigns({ scale: 0.05 }, ['dying']).dying ?? [];
    const last = (d: string) => series.find((s) => s.design === d)?.samples.at(-1);
    expect(last('costa')?.deadCgroupsAlive ?? 0).toBeGreaterThan(0);
    expect(last('souhlal')?.deadCgroupsAlive ?? 0).toBeGreaterThan(0);
    expect(last('objcg')?.deadCgroupsAlive).toBe(0);
    expect(last('objcg')?.deadObjcgsAlive ?? 0).toBeGreaterThan(0);
    expect(last('souhlal')?.deadCaches ?? 0).toBeGreaterThan(last('souhlal')?.deadCgroupsAlive ?? 0);
  });
});
