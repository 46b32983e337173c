import { describe, expect, it } from 'vitest';
import { counterexampleFile, replayCounterexample } from './counterexample.js';
import { exploreNmi } from './explore-nmi.js';
import type { NmiExploreReport } from './explore-nmi.js';
import { NMI_INVARIANTS } from './nmi-monitor.js';

const found = (r: NmiExploreReport): string[] => [...new Set(r.violations.map((v) => v.invariant))].sort();

// Small budgets: one NMI beyond the start's own, from the start states that raise one. No arrival point, symbol or situation is given.
describe('the explorer finds the weakened entries\' failures by itself', () => {
  it('naive: a second NMI after the #PF\'s iret runs the handler nested and the first NMI returns through the second\'s frame', async () => {
    const r = await exploreNmi({ entry: 'naive', starts: ['nmi-perf'], nmis: 1 });
    expect(r.verdict).toBe('violated');
    expect(found(r)).toEqual([NMI_INVARIANTS.notNested, NMI_INVARIANTS.returnFrame].sort());
    const frame = r.violations.find((v) => v.invariant === NMI_INVARIANTS.returnFrame)!;
    expect(frame.detail).toMatch(/not to user_syscall_loop/);
    expect(frame.schedule.filter((c) => c.kind === 'event')).toHaveLength(1);
  }, 120_000);

  it('variable only (no stack check): an NMI between clearing the variable and iretq breaks the first NMI\'s return', async () => {
    const r = await exploreNmi({ entry: 'nested', variant: 'variable-only', starts: ['nmi-perf'], nmis: 1 });
    expect(found(r)).toContain(NMI_INVARIANTS.returnFrame);
  }, 120_000);

  it('stack check only (no variable): an NMI inside a kprobe\'s #BP handler on the debug stack runs the handler nested', async () => {
    const r = await exploreNmi({ entry: 'nested', variant: 'stack-check-only', starts: ['nmi-kprobe'], nmis: 1 });
    expect(r.verdict).toBe('violated');
    expect(found(r)).toContain(NMI_INVARIANTS.notNested);
  }, 120_000);

  it('3.3 as it was: every schedule with one more NMI from the perf start holds every invariant', async () => {
    const r = await exploreNmi({ entry: 'nested', starts: ['nmi-perf'], nmis: 1 });
    expect(r.verdict).toBe('verified');
    expect(r.starts[0]!.exhaustive).toBe(true);
    expect(r.states).toBeGreaterThan(10_000);
  }, 120_000);

  it('an exception-table fixup is no overwritten frame: the watchdog dump\'s careful reads fault and resume at their fixup', async () => {
    // Without NMIs beyond the start's own, the only #PFs are the dump's faulting careful reads.
    const r = await exploreNmi({ entry: 'nested', starts: ['nmi-watchdog'], nmis: 0 });
    expect(r.violations).toEqual([]);
    expect(r.verdict).toBe('verified');
    expect(r.states).toBeGreaterThan(1_000);
  }, 60_000);
});

describe('counterexamples', () => {
  it('replay bit for bit from the saved file, and show the NMI stack at the failing step', async () => {
    const r = await exploreNmi({ entry: 'naive', starts: ['nmi-perf'], nmis: 1 });
    const v = r.violations.find((x) => x.invariant === NMI_INVARIANTS.returnFrame)!;
    const file = JSON.parse(JSON.stringify(counterexampleFile(r.params, v))) as ReturnType<typeof counterexampleFile>;
    const a = replayCounterexample(file);
    const b = replayCounterexample(file);
    expect(a.reproduced).toBe(true);
    expect(a.hash).toBe(b.hash);
    expect(a.trace).toContain('iretq');
    expect(a.diagram.slots[0]!.role.field).toBe('SS');
    // One step short of the schedule, the violation has not happened yet.
    const short = replayCounterexample({ ...file, schedule: file.schedule.slice(0, -1) });
    expect(short.reproduced).toBe(false);
  }, 120_000);
});

describe('options the search cannot run', () => {
  it('refuses a state budget or a thread count that is not a count, before any worker starts', async () => {
    // 1e9 threads ran the process out of memory; a NaN budget ran and reported "verified".
    for (const bad of [{ maxStates: Number.NaN }, { maxStates: 0 }, { maxStates: -1 }, { maxStates: 1.5 }, { threads: 0 }, { threads: 1.5 }, { threads: Number.NaN }, { threads: 1e9 }]) {
      await expect(exploreNmi({ entry: 'naive', starts: ['nmi-perf'], nmis: 1, ...bad })).rejects.toMatchObject({ name: 'NmiX86Error', code: 'KERNSIM_NMI64_BAD_EXPLORE' });
    }
  });

  it('refuses an empty list of start states instead of reporting "verified" of nothing', async () => {
    await expect(exploreNmi({ entry: 'naive', starts: [], nmis: 1 })).rejects.toMatchObject({ name: 'NmiX86Error', code: 'KERNSIM_NMI64_BAD_EXPLORE', message: expect.stringContaining('starts is empty') as unknown });
  });
});
