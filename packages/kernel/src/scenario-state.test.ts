import type { FrameWord, TraceEvent } from '@kernsim/cpu-core';
import { describe, expect, it } from 'vitest';
import { scenarioSpec } from './scenarios.js';
import { dueInjections, initialRunState, isQuiet, onEvent } from './scenario-state.js';
import type { MachineView, RunContext, RunEvent, RunState } from './scenario-state.js';

const spec = scenarioSpec('perf-vmalloc');
const ctx: RunContext = {
  spec,
  wordSize: 8,
  symbolize: (a) => `0x${a.toString(16)}`,
  mergeLabels: ['nested_nmi'],
  repeatLabels: [{ at: 'restart', after: 'exit' }],
};
const fresh = (): RunState => initialRunState(ctx, 2, [0], []);

/** An NMI frame pushed at `frame` (the RIP slot) that interrupted `rip`. */
function nmiDelivery(cpu: number, frame: bigint, rip: bigint): TraceEvent {
  const words: FrameWord[] = [
    { field: 'RIP', address: frame, value: rip },
    { field: 'CS', address: frame + 8n, value: 0x10n },
    { field: 'RFLAGS', address: frame + 16n, value: 0x2n },
    { field: 'RSP', address: frame + 24n, value: 0x7000n },
    { field: 'SS', address: frame + 32n, value: 0x18n },
  ];
  return { kind: 'delivery', seq: 0, cpu, vector: 2, name: 'NMI', cause: 'nmi', errorCode: undefined, ist: 3, fromCpl: 0, handler: 0x1000n, words };
}

const run = (events: readonly RunEvent[], from = fresh()): RunState => events.reduce((s, e) => onEvent(s, e, ctx).state, from);
const view = (instructions: number): MachineView => ({ instructions: () => instructions, rip: () => 0n, nmiPending: () => false });

describe('the scenario reducer', () => {
  it('never changes the state it is given', () => {
    const before = fresh();
    const snapshot = JSON.stringify(before, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    const after = run([{ type: 'trace', step: 5, event: nmiDelivery(0, 0x8000n, 0x400000n), instructions: 50 }, { type: 'executed', cpu: 0, label: 'nested_nmi' }], before);
    expect(JSON.stringify(before, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))).toBe(snapshot);
    expect(before.nmis.active(0)).toHaveLength(0);
    expect(after.nmis.active(0)).toHaveLength(1);
  });

  it('counts a merge where the entry folds a second NMI into the running one, and a lost NMI where none was running', () => {
    const one = run([{ type: 'trace', step: 5, event: nmiDelivery(0, 0x8000n, 0x400000n), instructions: 50 }]);
    const lost = run([{ type: 'executed', cpu: 0, label: 'nested_nmi' }], one);
    expect(lost.cpus[0]).toMatchObject({ lost: 1, merged: 0 });
    const two = run([{ type: 'trace', step: 9, event: nmiDelivery(0, 0x7f00n, 0x1234n), instructions: 60 }], one);
    const merged = run([{ type: 'executed', cpu: 0, label: 'nested_nmi' }], two);
    expect(merged.cpus[0]).toMatchObject({ lost: 0, merged: 1 });
    expect(merged.cpus[1]).toMatchObject({ lost: 0, merged: 0 });
  });

  it('a nested NMI between the failed cmpxchg and the restart does not hide where the interrupted run came from', () => {
    const first = run([
      { type: 'trace', step: 1, event: nmiDelivery(0, 0x8000n, 0x400000n), instructions: 10 },
      { type: 'executed', cpu: 0, label: 'nmi' },
      { type: 'executed', cpu: 0, label: 'exit' },
      { type: 'trace', step: 5, event: nmiDelivery(0, 0x7f00n, 0x1234n), instructions: 20 },
      { type: 'executed', cpu: 0, label: 'nmi' },
      { type: 'executed', cpu: 0, label: 'nested_nmi' },
    ]);
    expect(first.cpus[0]).toMatchObject({ merged: 1, repeats: 0 });
    // The nested NMI returns (its own iret: not modelled here, so drop it from the tracker by hand).
    const back: RunState = { ...first, nmis: first.nmis.clone() };
    back.nmis.iret({ cpu: 0, step: 6, frame: 0x7f00n, rip: 0x1234n, rsp: 0x7000n, cs: 0x10 });
    expect(back.nmis.active(0)).toHaveLength(1);
    const again = run([{ type: 'executed', cpu: 0, label: 'restart' }], back);
    expect(again.cpus[0]!.repeats).toBe(1);
  });

  it('counts a repeat only when the CPU comes to the repeat label from the one it names', () => {
    const first = run([{ type: 'executed', cpu: 0, label: 'nmi' }, { type: 'executed', cpu: 0, label: 'restart' }]);
    expect(first.cpus[0]!.repeats).toBe(0);
    const again = run([{ type: 'executed', cpu: 0, label: 'exit' }, { type: 'executed', cpu: 0, label: 'restart' }], first);
    expect(again.cpus[0]!.repeats).toBe(1);
  });

  it('raises each injection once, when due, and is quiet only when all fired and no NMI is active', () => {
    expect(dueInjections(fresh(), ctx, view(0), [])).toEqual([]);
    const due = dueInjections(fresh(), ctx, view(100), []);
    expect(due.map((d) => d.kind)).toEqual(['injection', 'injection']);
    expect(isQuiet(fresh(), ctx, view(100))).toBe(false);
    const fired = run(due.map((d) => ({ type: 'raised' as const, step: 1, cpu: d.cpu, due: d })));
    expect(dueInjections(fired, ctx, view(100), [])).toEqual([]);
    expect(fired.cpus[0]!.lastRaise).toBe(1);
    // after-exception-iret arrivals wait for their iret: not due, so not quiet either
    expect(spec.injections.length).toBe(3);
    expect(isQuiet(fired, ctx, view(100))).toBe(false);
  });

  it('a crash is kept: a later death does not replace the first reason', () => {
    const s = run([
      { type: 'panic', step: 3, cpu: 0, console: 'BUG: first', explain: false },
      { type: 'trace', step: 4, event: { kind: 'death', seq: 0, cpu: 1, reason: 'triple fault' }, instructions: 9 },
    ]);
    expect(s.crash).toBe('panic on CPU 0: BUG: first');
  });
});
