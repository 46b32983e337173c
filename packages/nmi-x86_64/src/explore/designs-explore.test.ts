import { describe, expect, it } from 'vitest';
import { counterexampleFile, replayCounterexample } from './counterexample.js';
import { exploreNmi } from './explore-nmi.js';
import type { NmiExploreReport, NmiViolation } from './explore-nmi.js';
import { NMI_INVARIANTS } from './nmi-monitor.js';

const found = (r: NmiExploreReport): string[] => [...new Set(r.violations.map((v) => v.invariant))].sort();

/** Replays a violation from its saved (JSON round-tripped) file twice: same findings, same final machine hash. */
function replayTwice(r: NmiExploreReport, v: NmiViolation): { a: ReturnType<typeof replayCounterexample>; b: ReturnType<typeof replayCounterexample> } {
  const file = JSON.parse(JSON.stringify(counterexampleFile(r.params, v))) as ReturnType<typeof counterexampleFile>;
  return { a: replayCounterexample(file), b: replayCounterexample(file) };
}

// The 2010 designs, explored with one NMI beyond the start's own: no arrival point, symbol or situation is given.
describe('Desnoyers\'s ret-from-fault design, explored', () => {
  it('keeps NMIs blocked across a #PF and a #BP in NMI context: no schedule breaks the perf or kprobe windows', async () => {
    const r = await exploreNmi({ entry: 'nested', variant: 'ret-from-fault', starts: ['nmi-perf', 'nmi-kprobe'], nmis: 1 });
    expect(r.verdict).toBe('verified');
    expect(r.starts.every((s) => s.exhaustive)).toBe(true);
  }, 120_000);

  it('but an NMI in a #BP handler whose own #BP restarts the debug IST stack overwrites the first #BP\'s frame; the counterexample replays bit for bit', async () => {
    const r = await exploreNmi({ entry: 'nested', variant: 'ret-from-fault', starts: ['breakpoint'], nmis: 1 });
    expect(r.verdict).toBe('violated');
    expect(found(r)).toContain(NMI_INVARIANTS.returnFrame);
    const v = r.violations.find((x) => x.invariant === NMI_INVARIANTS.returnFrame)!;
    expect(v.detail).toMatch(/#BP 1 of 1 returned to .* not to kthread_work/);
    expect(v.schedule.filter((c) => c.kind === 'event')).toHaveLength(1);
    const { a, b } = replayTwice(r, v);
    expect(a.reproduced).toBe(true);
    expect(a.hash).toBe(b.hash);
    expect(a.trace).toContain('iret to CPL0');
  }, 40_000);
});

describe('Torvalds\'s faulting-iret design, explored', () => {
  it('an NMI after the per-CPU frame pointer is cleared, before the iretq, is taken for a first one and writes its frame copy over the one the iretq pops', async () => {
    const r = await exploreNmi({ entry: 'nested', variant: 'faulting-iret', starts: ['nmi-perf'], nmis: 1 });
    expect(r.verdict).toBe('violated');
    // The latch itself holds: no nested handler run, no lost or doubly handled NMI; only the return breaks.
    expect(found(r)).toEqual([NMI_INVARIANTS.returnFrame]);
    const v = r.violations[0]!;
    expect(v.detail).toMatch(/NMI 1 of 1 returned to nmi_(clear_frame|swapgs|restore)\S* .* not to user_syscall_loop/);
    const { a, b } = replayTwice(r, v);
    expect(a.reproduced).toBe(true);
    expect(a.hash).toBe(b.hash);
    expect(a.diagram.slots.some((s) => s.role.region === 'kept CS')).toBe(true);
    // One step short of the schedule, the violation has not happened yet.
    const short = replayCounterexample({ ...counterexampleFile(r.params, v), schedule: v.schedule.slice(0, -1) });
    expect(short.reproduced).toBe(false);
  }, 40_000);
});
