import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { breakpointStates, hex } from './forms.js';
import { runPatch } from './run.js';
import type { PatchResult } from './run.js';

const ARCHES = ['x86_64', 'i386'] as const;

function isInOrder(seen: readonly (readonly number[])[], states: readonly (readonly number[])[]): boolean {
  let k = 0;
  for (const s of seen) {
    while (k < states.length && hex(states[k]!) !== hex(s)) k++;
    if (k === states.length) return false;
  }
  return true;
}

function newEverywhere(r: PatchResult): void {
  for (const [i, site] of r.sites.entries()) expect(hex(r.finalBytes[i]!)).toBe(hex(site.newBytes));
  // After the patch every other CPU reached the new instruction's target.
  for (const c of r.perCpu.slice(1)) expect(c.traced).toBeGreaterThan(0);
}

describe.each(ARCHES)('two CPUs running an ftrace site in a loop (%s)', (arch) => {
  it('direct: the CPU that runs the half-written instruction takes #GP', () => {
    const r = runPatch({ arch, method: 'direct', cpus: 2, startAfter: 3 });
    expect(r.gpFaults).toBeGreaterThan(0);
    expect(r.perCpu[1]!.status).toBe('halted');
  });

  it('stop_machine: no #GP, every CPU stalled in the rendezvous, then runs the call', () => {
    const r = runPatch({ arch, method: 'stop-machine', cpus: 2, observe: true });
    expect(r.completed).toBe(true);
    expect(r.gpFaults).toBe(0);
    expect(r.perCpu[1]!.stall).toBeGreaterThan(0);
    expect(r.ipisSent).toBe(1);
    newEverywhere(r);
  });

  it('breakpoint: no #GP, three sync rounds, and CPU 1 only ever sees old, cc + old tail, cc + new tail, new', () => {
    const r = runPatch({ arch, method: 'breakpoint', cpus: 2, observe: true, startAfter: 1 });
    expect(r.completed).toBe(true);
    expect(r.gpFaults).toBe(0);
    expect(r.strayInt3).toBe(0);
    expect(r.syncRounds).toBe(3);
    expect(r.ipisSent).toBe(3);
    const site = r.sites[0]!;
    const states = breakpointStates(site.oldBytes, site.newBytes);
    expect(isInOrder(r.observed, states)).toBe(true);
    expect(r.int3OtherCpus).toBeGreaterThan(0);
    newEverywhere(r);
  });

  it("breakpoint: the site's bytes after each step are the article's listings", () => {
    const r = runPatch({ arch, method: 'breakpoint', cpus: 2, observe: true });
    const site = r.sites[0]!;
    // At the three syncs: int3 added; tail replaced; head replaced.
    expect(r.atSyncs.map(hex)).toEqual(breakpointStates(site.oldBytes, site.newBytes).slice(1).map(hex));
    expect(hex(r.atSyncs[0]!)).toBe('cc 1f 44 00 00');
    expect(hex(r.atSyncs[2]!).startsWith('e8 ')).toBe(true);
  });
});

describe('batching', () => {
  it('patches many sites with the same three syncs; one at a time costs three per site', () => {
    const sites = 40;
    const batch = runPatch({ method: 'breakpoint', cpus: 4, sites });
    const each = runPatch({ method: 'breakpoint', cpus: 4, sites, batching: 'each' });
    for (const r of [batch, each]) {
      expect(r.completed).toBe(true);
      expect(r.gpFaults).toBe(0);
      expect(r.strayInt3).toBe(0);
      newEverywhere(r);
    }
    expect(batch.syncRounds).toBe(3);
    expect(batch.ipisSent).toBe(3 * 3);
    expect(each.syncRounds).toBe(3 * sites);
    expect(each.ipisSent).toBe(3 * sites * 3);
    expect(each.patchCycles).toBeGreaterThan(batch.patchCycles);
  });
});

describe('the #BP handler modes', () => {
  it('emulate runs the new call from the trap, so every int3 hit reaches the tracer; skip and handler just continue', () => {
    for (const arch of ARCHES) {
      for (const bpMode of ['emulate', 'skip', 'handler'] as const) {
        const r = runPatch({ arch, method: 'breakpoint', cpus: 3, sites: 4, bpMode, batching: 'each' });
        expect(r.gpFaults).toBe(0);
        expect(r.strayInt3).toBe(0);
        expect(r.int3OtherCpus).toBeGreaterThan(0);
        newEverywhere(r);
        if (bpMode === 'emulate') for (const c of r.perCpu.slice(1)) expect(c.traced).toBeGreaterThanOrEqual(c.int3Hits);
      }
    }
  });
});

describe('users', () => {
  it('static keys: nop <-> jmp; after the patch the branch is taken', () => {
    const r = runPatch({ method: 'breakpoint', user: 'static-key', cpus: 3, sites: 8 });
    expect(r.gpFaults).toBe(0);
    expect(r.sites.every((s) => s.newBytes[0] === 0xe9)).toBe(true);
    newEverywhere(r);
    expect(r.filtered).toBeGreaterThan(0);
  });

  it('kprobes: every call of a probed function runs its handler exactly once, before, during and after optimization', () => {
    for (const method of ['breakpoint', 'stop-machine'] as const) {
      const r = runPatch({ method, user: 'kprobe', cpus: 3, sites: 6 });
      expect(r.completed).toBe(true);
      expect(r.gpFaults).toBe(0);
      expect(r.strayInt3).toBe(0);
      expect(r.kprobedCalls).toBeGreaterThan(0);
      // Once per hit: the counts differ only by calls in flight when the run stopped (one per CPU at most).
      expect(r.kprobeHits).toBeGreaterThanOrEqual(r.kprobedCalls);
      expect(r.kprobeHits - r.kprobedCalls).toBeLessThanOrEqual(3);
      expect(r.sites.every((s) => s.oldBytes[0] === 0xcc && s.newBytes[0] === 0xe9)).toBe(true);
      newEverywhere(r);
    }
  });
});

describe('a CPU with interrupts off', () => {
  it('stops everyone under stop_machine; under breakpoints the others keep working while the patcher waits', () => {
    const irqOff = { cpu: 3, iterations: 300 };
    const sm = runPatch({ method: 'stop-machine', cpus: 4, irqOff, settle: 0 });
    const bp = runPatch({ method: 'breakpoint', cpus: 4, irqOff, settle: 0 });
    const smQuiet = runPatch({ method: 'stop-machine', cpus: 4, settle: 0 });
    expect(sm.completed && bp.completed).toBe(true);
    expect(sm.stallWorst).toBeGreaterThan(10 * smQuiet.stallWorst);
    // Both waited for the same interrupts-off section ...
    expect(bp.patchCycles).toBeGreaterThan(sm.patchCycles / 2);
    // ... but CPUs 1 and 2 went on with their own work under breakpoints.
    const work = (r: typeof sm): number => r.perCpu[1]!.work + r.perCpu[2]!.work;
    expect(work(bp)).toBeGreaterThan(5 * work(sm));
  });
});

describe('seeded sweep of patch start times against running CPUs', () => {
  it('never raises #GP under breakpoint or stop_machine', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 12 }),
        fc.integer({ min: 1, max: 1000 }),
        fc.constantFrom('breakpoint' as const, 'stop-machine' as const),
        fc.constantFrom(...ARCHES),
        (startAfter, seed, method, arch) => {
          const r = runPatch({ arch, method, cpus: 3, sites: 3, startAfter, seed, scheduler: 'random' });
          expect(r.completed).toBe(true);
          expect(r.gpFaults).toBe(0);
          expect(r.strayInt3).toBe(0);
        },
      ),
      { numRuns: 40, seed: 7 },
    );
  });
});
