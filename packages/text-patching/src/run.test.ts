import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { breakpointStates, hex, rel32Target } from './forms.js';
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

/** Site 0's bytes in a listing taken from simulated memory. */
function siteIn(r: PatchResult, when: string): string {
  const l = r.listings.find((x) => x.when === when);
  if (l === undefined) throw new Error(`no listing "${when}"; have ${r.listings.map((x) => x.when).join(', ')}`);
  const off = Number(r.sites[0]!.address - l.address);
  return hex(l.bytes.subarray(off, off + r.sites[0]!.oldBytes.length));
}

describe.each(ARCHES)('two CPUs running an ftrace site in a loop (%s)', (arch) => {
  it('direct: the other CPU runs the half-written instruction and takes #GP at the site', () => {
    const r = runPatch({ arch, method: 'direct', cpus: 2, startAfter: 3 });
    expect(r.gpFaults).toBeGreaterThan(0);
    expect(r.gpAt).toBe(r.sites[0]!.address);
    expect(r.perCpu[1]!.status).toBe('halted');
    expect(r.machine.cpus[1]!.lastFault?.reason).toMatch(/cross-modified/);
  });

  it('stop_machine: no #GP, the other CPU stalled in the rendezvous, then every CPU runs the call', () => {
    const r = runPatch({ arch, method: 'stop-machine', cpus: 2, observe: true });
    expect(r.completed).toBe(true);
    expect(r.gpFaults).toBe(0);
    expect(r.perCpu[1]!.stall).toBeGreaterThan(0);
    // One wake-up to CPU 1's stopper; CPU 0 gets the completion's reschedule IPI only if it had gone to sleep first.
    const [caller, other] = [r.machine.cpus[0]!.counters.ipisDelivered, r.machine.cpus[1]!.counters.ipisDelivered];
    expect(other).toBe(1);
    expect(caller).toBeLessThanOrEqual(1);
    expect(r.ipisSent).toBe(other + caller);
    // CPU 1 never ran an intermediate state: old, then (after the rendezvous) new.
    const site = r.sites[0]!;
    expect(r.observed.map(hex)).toEqual([hex(site.oldBytes), hex(site.newBytes)]);
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
    expect(r.observed.length).toBeGreaterThan(2);
    expect(r.int3OtherCpus).toBeGreaterThan(0);
    newEverywhere(r);
  });

  it("breakpoint: the site's bytes read from simulated memory after each step are the article's listings", () => {
    const r = runPatch({ arch, method: 'breakpoint', cpus: 2, observe: true });
    const site = r.sites[0]!;
    expect(siteIn(r, 'patch starts')).toBe('0f 1f 44 00 00');
    expect(siteIn(r, 'sync 1')).toBe('cc 1f 44 00 00');
    expect(siteIn(r, 'sync 2')).toBe(hex([0xcc, ...site.newBytes.slice(1)]));
    expect(siteIn(r, 'sync 3')).toBe(hex(site.newBytes));
    expect(siteIn(r, 'sync 3').startsWith('e8 ')).toBe(true);
    expect(siteIn(r, 'patch done')).toBe(hex(site.newBytes));
    // The trace's replay of the watched writes agrees with memory.
    expect(r.atSyncs.map(hex)).toEqual(breakpointStates(site.oldBytes, site.newBytes).slice(1).map(hex));
  });
});

describe('what other CPUs see under the breakpoint method', () => {
  it('never the old first byte with a new tail, whatever the interleaving', () => {
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const r = runPatch({ method: 'breakpoint', cpus: 2, observe: true, seed, scheduler: 'random', startAfter: seed % 3 });
      const site = r.sites[0]!;
      const oldHead = site.oldBytes[0]!;
      const newTail = hex(site.newBytes.slice(1));
      for (const seen of r.observed) expect(seen[0] === oldHead && hex(seen.slice(1)) === newTail).toBe(false);
      expect(isInOrder(r.observed, breakpointStates(site.oldBytes, site.newBytes))).toBe(true);
      expect(r.gpFaults).toBe(0);
    }
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

describe('hundreds of ftrace sites', () => {
  it('300 functions switch to the tracer in one batch with three syncs, and the tracer counts their calls', () => {
    const r = runPatch({ method: 'breakpoint', cpus: 3, sites: 300, settle: 30 });
    expect(r.completed).toBe(true);
    expect(r.gpFaults + r.strayInt3).toBe(0);
    expect(r.syncRounds).toBe(3);
    expect(r.ipisSent).toBe(3 * 2);
    newEverywhere(r);
    // Each CPU counts its own calls (no machine-wide word: 3.3's tracer keeps its data per CPU).
    for (const c of r.perCpu) expect(c.traced).toBeGreaterThan(0);
    expect(r.traceCalls).toBeGreaterThan(300);
  });
});

describe('the #BP handler modes', () => {
  it("static keys' handler is code+5 as in 3.13's arch_jump_label_transform: a trapping CPU skips the site, it does not take the branch", () => {
    const r = runPatch({ method: 'breakpoint', user: 'static-key', bpMode: 'handler', cpus: 4, sites: 2, batching: 'each', scheduler: 'random' });
    expect(r.completed && r.gpFaults === 0 && r.strayInt3 === 0).toBe(true);
    expect(r.int3OtherCpus).toBeGreaterThan(0);
    for (const s of r.sites) expect(s.handler).toBe(s.address + 5n);
  });

  it('emulate runs the new call from the trap, so every int3 hit reaches the tracer; skip and handler just continue', () => {
    for (const arch of ARCHES) {
      for (const bpMode of ['emulate', 'skip', 'handler'] as const) {
        const r = runPatch({ arch, method: 'breakpoint', cpus: 4, sites: 2, bpMode, batching: 'each', scheduler: 'random' });
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
  it('static keys: switching on makes the branch taken from then on; switching off stops it', () => {
    const on = runPatch({ method: 'breakpoint', user: 'static-key', cpus: 3, sites: 8 });
    expect(on.gpFaults).toBe(0);
    expect(on.sites.every((s) => s.oldBytes[0] === 0x0f && s.newBytes[0] === 0xe9)).toBe(true);
    newEverywhere(on);
    const onLonger = runPatch({ method: 'breakpoint', user: 'static-key', cpus: 3, sites: 8, settle: 40 });
    expect(onLonger.filtered).toBeGreaterThan(on.filtered);

    const off = runPatch({ method: 'breakpoint', user: 'static-key', cpus: 3, sites: 8, direction: 'off' });
    expect(off.gpFaults).toBe(0);
    expect(off.strayInt3).toBe(0);
    for (const [i, s] of off.sites.entries()) expect(hex(off.finalBytes[i]!)).toBe(hex(s.newBytes));
    expect(off.sites.every((s) => s.oldBytes[0] === 0xe9 && hex(s.newBytes) === '0f 1f 44 00 00')).toBe(true);
    // Before the patch the branch was taken; once it is done nobody takes it any more.
    expect(off.filtered).toBeGreaterThan(0);
    const offLonger = runPatch({ method: 'breakpoint', user: 'static-key', cpus: 3, sites: 8, direction: 'off', settle: 40 });
    expect(offLonger.filtered).toBe(off.filtered);
    expect(offLonger.perCpu[1]!.work).toBeGreaterThan(off.perCpu[1]!.work);
  });

  it('ftrace off: the calls go back to nops under stop_machine too, and the tracer stops counting', () => {
    const off = runPatch({ method: 'stop-machine', cpus: 3, sites: 5, direction: 'off' });
    const offLonger = runPatch({ method: 'stop-machine', cpus: 3, sites: 5, direction: 'off', settle: 40 });
    expect(off.completed && offLonger.completed).toBe(true);
    expect(off.gpFaults + offLonger.gpFaults).toBe(0);
    expect(off.finalBytes.map(hex)).toEqual(off.sites.map(() => '0f 1f 44 00 00'));
    expect(off.traceCalls).toBeGreaterThan(0);
    expect(offLonger.traceCalls).toBe(off.traceCalls);
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
      // per CPU: the probe fires before the function counts the call, so at most one apart
      for (const c of r.perCpu) expect(c.traced - c.calls).toBeGreaterThanOrEqual(0);
      for (const c of r.perCpu) expect(c.traced - c.calls).toBeLessThanOrEqual(1);
      expect(r.sites.every((s) => s.oldBytes[0] === 0xcc && s.newBytes[0] === 0xe9)).toBe(true);
      // probed_fn_3 jumps 4 bytes in: it cannot be optimized, stays an int3 probe and still fires.
      const stuck = r.image.kprobes.filter((k) => k.detour === undefined);
      expect(stuck.map((k) => k.address)).toEqual([r.image.symbol('probed_fn_3')]);
      expect(r.machine.readBytes(stuck[0]!.address, 1)[0]).toBe(0xcc);
      expect(r.sites.length).toBe(5);
      // Optimized: a jmp rel32 to the detour, which copied whole instructions covering the 5 bytes.
      for (const [i, s] of r.sites.entries()) {
        const probe = r.image.kprobes.find((k) => k.address === s.address)!;
        expect(rel32Target(s.address, r.finalBytes[i]!)).toBe(probe.detour);
        expect(probe.copied).toBeGreaterThanOrEqual(5);
      }
      newEverywhere(r);
    }
  });
});

describe('optimizing kprobes while CPUs run inside the replaced instructions', () => {
  it('waits until no CPU is inside the bytes the jmp replaces or in a slot, so nobody returns into a torn instruction', () => {
    for (const method of ['breakpoint', 'stop-machine'] as const) {
      for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
        // Lockstep on 2 CPUs would catch a CPU in the same place every round if the check
        // counted slots of probes that are not being optimized: it must not livelock.
        const cpus = seed <= 2 ? 2 : 4;
        const r = runPatch({ method, user: 'kprobe', cpus, sites: 4, seed, scheduler: seed % 2 === 1 ? 'round-robin' : 'random' });
        expect(r.completed).toBe(true);
        expect(r.gpFaults + r.strayInt3).toBe(0);
        expect(r.perCpu.every((c) => c.status === 'running')).toBe(true);
        expect(r.kprobeHits - r.kprobedCalls).toBeLessThanOrEqual(4);
        expect(r.kprobeHits).toBeGreaterThanOrEqual(r.kprobedCalls);
      }
    }
  });
});

describe('a CPU with interrupts off', () => {
  it('stops everyone under stop_machine; under breakpoints the others keep working while the patcher waits', () => {
    const irqOff = { cpu: 3, cycles: 100_000 };
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
