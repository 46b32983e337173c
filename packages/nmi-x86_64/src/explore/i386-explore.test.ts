import { describe, expect, it } from 'vitest';
import { exploreNmi } from './explore-nmi.js';
import { NMI_INVARIANTS } from './nmi-monitor.js';

// i386: NMIs on the current stack, 3.3's nmi_state latch in do_nmi. One NMI beyond the perf start's own, no hint.
describe('the explorer on the i386 entries', () => {
  it('without the latch, an NMI after the #PF\'s iret runs the handler nested (frames survive: no IST)', async () => {
    const r = await exploreNmi({ arch: 'i386', entry: 'naive', starts: ['nmi-perf'], nmis: 1 });
    expect(r.violations.map((v) => v.invariant)).toEqual([NMI_INVARIANTS.notNested]);
  }, 120_000);

  it('3.3\'s latch with cmpxchg holds every invariant over the whole window', async () => {
    const r = await exploreNmi({ arch: 'i386', entry: 'nested', starts: ['nmi-perf'], nmis: 1 });
    expect(r.verdict).toBe('verified');
    expect(r.starts[0]!.exhaustive).toBe(true);
  }, 120_000);

  it('the latch left with a plain test and store loses an NMI that latches between the two', async () => {
    const r = await exploreNmi({ arch: 'i386', entry: 'nested', variant: 'no-cmpxchg', starts: ['nmi-perf'], nmis: 1 });
    const lost = r.violations.find((v) => v.invariant === NMI_INVARIANTS.once);
    expect(lost?.detail).toMatch(/lost/);
  }, 120_000);

  it('refuses start states and variants that do not exist on i386', async () => {
    await expect(exploreNmi({ arch: 'i386', entry: 'nested', starts: ['user-rsp-nmi-stack'], nmis: 1 })).rejects.toMatchObject({ code: 'KERNSIM_NMI64_BAD_EXPLORE' });
    await expect(exploreNmi({ arch: 'i386', entry: 'nested', variant: 'variable-only', starts: ['nmi-perf'], nmis: 1 })).rejects.toMatchObject({ code: 'KERNSIM_NMI64_BAD_EXPLORE' });
    await expect(exploreNmi({ entry: 'nested', variant: 'no-cmpxchg', starts: ['nmi-perf'], nmis: 1 })).rejects.toMatchObject({ code: 'KERNSIM_NMI64_BAD_EXPLORE' });
  });
});
