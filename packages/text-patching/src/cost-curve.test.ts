import { describe, expect, it } from 'vitest';
import { costCurve, cyclesToMicros } from './cost-curve.js';
import { runPatch } from './run.js';

describe("stop_machine's cost against the CPU count", () => {
  const modelled = costCurve({ cpuCounts: [4, 64], methods: ['stop-machine'] });
  const flat = costCurve({ cpuCounts: [4, 64], methods: ['stop-machine'], timing: 'flat' });
  const perCpu = (rows: typeof modelled): number => (rows[1]!.patchCycles - rows[0]!.patchCycles) / 60;

  it('grows with the CPU count under the modelled timing: an ICR write, a serialising wrmsr and line transfers per stopper', () => {
    expect(modelled.every((r) => r.completed)).toBe(true);
    expect(modelled[1]!.patchCycles).toBeGreaterThan(8 * modelled[0]!.patchCycles);
    expect(perCpu(modelled)).toBeGreaterThan(600);
    // flat timing charges only the queueing loop's and the rendezvous's extra instructions
    expect(perCpu(flat)).toBeLessThan(40);
  });

  it("splits into wake-up, join and rendezvous terms that add up to the patch time, the wake-up growing with each stopper", () => {
    for (const r of modelled) {
      const t = r.terms!;
      expect(t.wake).toBeGreaterThan(0);
      expect(t.join).toBeGreaterThan(0);
      expect(t.rendezvous).toBeGreaterThan(0);
      const sum = t.wake + t.join + t.rendezvous;
      expect(sum).toBeLessThanOrEqual(r.patchCycles);
      // what is left is the caller's set-up before it queues anything
      expect(r.patchCycles - sum).toBeLessThan(1000);
    }
    expect(modelled[1]!.terms!.wake).toBeGreaterThan(12 * modelled[0]!.terms!.wake);
    expect(modelled[1]!.patchMicros).toBe(cyclesToMicros(modelled[1]!.patchCycles));
  });
});

describe('IPIs counted by the patching code and delivered by the machine', () => {
  it('agree for stop_machine (one wake-up per other CPU, one back to the sleeping caller) and the breakpoint method (three broadcasts, or three per site unbatched)', () => {
    const cpus = 16;
    const sm = runPatch({ method: 'stop-machine', cpus, sites: 3, settle: 1 });
    const batched = runPatch({ method: 'breakpoint', cpus, sites: 3, settle: 1 });
    const each = runPatch({ method: 'breakpoint', cpus, sites: 3, settle: 1, batching: 'each' });
    for (const r of [sm, batched, each]) expect(r.ipisSent).toBe(r.ipisDelivered);
    // stop_machine: a wake-up per other CPU, and the completion's wake-up of the sleeping caller
    expect(sm.ipisDelivered).toBe(cpus);
    expect(sm.perCpu[0]!.ipisTaken).toBe(1);
    expect(batched.ipisDelivered).toBe(3 * (cpus - 1));
    expect(each.ipisDelivered).toBe(3 * 3 * (cpus - 1));
  });

  it('3.3 jump labels run one stop_machine per site; ftrace one for the batch', () => {
    const cpus = 8;
    const keys = runPatch({ method: 'stop-machine', user: 'static-key', cpus, sites: 3, settle: 1 });
    const ftrace = runPatch({ method: 'stop-machine', user: 'ftrace', cpus, sites: 3, settle: 1 });
    expect(keys.completed && ftrace.completed).toBe(true);
    // each stop_machine wakes every other CPU; the caller sleeps only when its own stopper
    // is not the last to finish, and is then woken by the last (CPU 0 counts those IPIs)
    expect(keys.ipisDelivered).toBe(3 * (cpus - 1) + keys.perCpu[0]!.ipisTaken);
    expect(ftrace.ipisDelivered).toBe(cpus - 1 + ftrace.perCpu[0]!.ipisTaken);
    expect(ftrace.perCpu[0]!.ipisTaken).toBeLessThanOrEqual(1);
    expect(keys.patchCycles).toBeGreaterThan(2 * ftrace.patchCycles);
    for (const c of keys.perCpu.slice(1)) expect(c.ipisTaken).toBe(3);
  });
});
