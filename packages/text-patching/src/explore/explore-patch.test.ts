import { describe, expect, it } from 'vitest';
import { PATCH_INVARIANTS } from './code-view.js';
import { parsePatchCounterexample, patchCounterexampleFile, replayPatchCounterexample } from './counterexample.js';
import { explorePatchProtocol } from './explore-patch.js';
import type { PatchExploreReport } from './explore-patch.js';

// The CI budget: 2 CPUs, depth 64 in every phase. The patching CPU takes 4-6 choices per
// phase (its private work between two visible actions is one step: patcher-steps.ts), so each
// leaves the other CPU the rest to stand anywhere in its loop. No write, sync or site
// position is given to the search: only the protocol.
const DEPTH = 64;

const found = (r: PatchExploreReport): string[] => [...new Set(r.violations.map((v) => `${v.invariant}@${v.start}`))].sort();

describe('the explorer finds each weakened breakpoint protocol\'s failure by itself', () => {
  it('without the int3 sync: a CPU still holding the old first byte may fetch it with the new tail', async () => {
    const r = await explorePatchProtocol({ protocol: 'no-int3-sync', maxDepth: DEPTH });
    expect(r.verdict).toBe('violated');
    expect(found(r)).toEqual([`${PATCH_INVARIANTS.staleMix}@start`]);
    expect(r.violations[0]!.detail).toMatch(/may fetch 0f 17 00 00 00/);
    // The machine's detector never fires: it decodes memory's int3, a 1-byte instruction (see README).
    expect(found(r).some((f) => f.startsWith(PATCH_INVARIANTS.torn))).toBe(false);
  }, 120_000);

  it('without the tail sync: a CPU sees the new first byte before the new tail, and the machine raises #GP', async () => {
    const r = await explorePatchProtocol({ protocol: 'no-tail-sync', maxDepth: DEPTH });
    expect(found(r)).toEqual([`${PATCH_INVARIANTS.staleMix}@after-int3-sync`, `${PATCH_INVARIANTS.torn}@after-int3-sync`]);
    expect(r.violations.find((v) => v.invariant === PATCH_INVARIANTS.torn)!.detail).toMatch(/saw cc 1f 44 00 00, memory has e8/);
  }, 120_000);

  it('without the head sync: a CPU that has not serialized may still take the int3 once the patch is over', async () => {
    const r = await explorePatchProtocol({ protocol: 'no-head-sync', maxDepth: DEPTH });
    expect(found(r)).toEqual([`${PATCH_INVARIANTS.staleMix}@after-tail-sync`]);
    expect(r.violations[0]!.detail).toMatch(/no handler claims/);
  }, 120_000);

  it('the direct write, run as torn bytes (crossModifyingCode: execute), calls into the middle of nowhere', async () => {
    const r = await explorePatchProtocol({ protocol: 'direct', maxDepth: DEPTH, crossModifyingCode: 'execute' });
    const neither = r.violations.find((v) => v.invariant === PATCH_INVARIANTS.neither);
    expect(neither?.detail).toMatch(/executed e8 1f 44 00 00 at traced_fn_0_site/);
  }, 120_000);

  it('the full protocol holds every invariant for the same budget', async () => {
    const r = await explorePatchProtocol({ protocol: 'full', maxDepth: DEPTH });
    expect(r.verdict).toBe('verified');
    expect(r.starts.map((s) => s.start)).toEqual(['start', 'after-int3-sync', 'after-tail-sync', 'after-head-sync']);
    expect(r.states).toBeGreaterThan(1000);
  }, 120_000);
});

describe('patch counterexamples', () => {
  it('replay bit for bit from the saved file, and one step short they do not fail', async () => {
    const r = await explorePatchProtocol({ protocol: 'no-tail-sync', maxDepth: 56 });
    const v = r.violations.find((x) => x.invariant === PATCH_INVARIANTS.torn)!;
    const file = parsePatchCounterexample(JSON.parse(JSON.stringify(patchCounterexampleFile(r.params, v))));
    const a = replayPatchCounterexample(file);
    const b = replayPatchCounterexample(file);
    expect(a.reproduced).toBe(true);
    expect(a.hash).toBe(b.hash);
    expect(a.siteBytes).toBe('e8 17 00 00 00');
    expect(a.cpus[1]).toMatch(/general_protection/);
    const short = replayPatchCounterexample({ ...file, schedule: file.schedule.slice(0, -1) });
    expect(short.reproduced).toBe(false);
  }, 120_000);

  it('rejects what is not a counterexample with a stable code', async () => {
    expect(() => parsePatchCounterexample({ format: 'kernsim-nmi-counterexample' })).toThrow(expect.objectContaining({ code: 'KERNSIM_PATCH_BAD_OPTIONS' }));
    await expect(explorePatchProtocol({ protocol: 'full', cpus: 9 })).rejects.toMatchObject({ code: 'KERNSIM_PATCH_BAD_OPTIONS' });
  });
});

describe('options the search cannot run', () => {
  it('refuses a state budget or a thread count that is not a count, before any worker starts', async () => {
    // A NaN budget ran and reported a verdict; 1e9 threads would run the process out of memory.
    for (const bad of [{ maxStates: Number.NaN }, { maxStates: 0 }, { maxStates: -1 }, { maxStates: 1.5 }, { threads: 0 }, { threads: 1.5 }, { threads: Number.NaN }, { threads: 1e9 }]) {
      await expect(explorePatchProtocol({ protocol: 'full', maxDepth: 8, ...bad })).rejects.toMatchObject({ code: 'KERNSIM_PATCH_BAD_OPTIONS' });
    }
  });
});
