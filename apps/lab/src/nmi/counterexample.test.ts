import type { RegName } from '@kernsim/cpu-core';
import { replaySchedule } from '@kernsim/cpu-core/explore';
import { buildNmiModel, counterexampleFile, exploreNmi, faultingIretSlotRole, naiveSlotRole, replayCounterexample } from '@kernsim/nmi-x86_64';
import type { CounterexampleFile } from '@kernsim/nmi-x86_64';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { CounterexampleSession } from './counterexample.js';
import { machineView } from './view.js';

const REGS: readonly RegName[] = ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r11', 'r15'];
let file: CounterexampleFile;
let text: string;

/** The machine after the schedule's first `n` choices, replayed straight from a fresh model. */
function straight(n: number): string {
  const { machine: m, options } = buildNmiModel(file.params);
  replaySchedule(m, file.schedule.slice(0, n), options.events);
  return JSON.stringify(m.cpus.map((c) => [c.rip, ...REGS.map((r) => c.reg(r))].map(String)));
}

beforeAll(async () => {
  const r = await exploreNmi({ entry: 'naive', starts: ['nmi-perf'], maxStates: 20_000 });
  const v = r.violations.find((x) => x.invariant === 'nmi-handler-not-nested')!;
  file = counterexampleFile(r.params, v);
  text = JSON.stringify(file);
});

describe('CounterexampleSession', () => {
  it('replays the saved schedule to its violation, marked at the last step', () => {
    const s = new CounterexampleSession('cx.json', text);
    expect(s.steps).toBe(file.schedule.length);
    expect(s.reproduced).toBe(true);
    expect(s.violationStep).toBe(s.steps);
    const last = s.events.at(-1)!;
    expect(last.kind).toBe('violation');
    expect(last.step).toBe(s.steps - 1);
    expect(s.summary().counterexample?.violationStep).toBe(s.steps);
    // The start state's own NMI was raised before the schedule; the search's are choices.
    expect(s.events.filter((e) => e.kind === 'nmi-raised').length).toBe(file.schedule.filter((c) => c.kind === 'event').length);
    expect(s.events.filter((e) => e.kind === 'delivery' && e.text.startsWith('NMI')).length).toBe(2);
    // The stack the lab draws at the violation is the one the library's replay draws.
    const view = machineView(s);
    const lib = replayCounterexample(file).diagram.slots.map((x) => x.value.toString(16).padStart(16, '0'));
    expect(view.stacks[0]!.slots.map((x) => x.value)).toEqual(lib);
  });

  it('marks the violation where it happens when the schedule goes on past it', () => {
    // Twenty more instructions after the saved violation: the mark stays at its step.
    const longer = { ...file, schedule: [...file.schedule, ...Array.from({ length: 20 }, () => ({ kind: 'step' as const, cpu: 0 }))] };
    const s = new CounterexampleSession('longer.json', JSON.stringify(longer));
    expect(s.steps).toBe(file.schedule.length + 20);
    expect(s.violationStep).toBe(file.schedule.length);
    expect(s.events.find((e) => e.kind === 'violation')?.step).toBe(file.schedule.length - 1);
    expect(s.summary().counterexample?.violationStep).toBe(file.schedule.length);
  });

  it('seeks, in any order, to the machine a straight replay of that prefix gives', () => {
    const s = new CounterexampleSession('cx.json', text);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: s.steps }), { minLength: 1, maxLength: 6 }), (steps) => {
        for (const n of steps) {
          expect(s.seek(n)).toBe(n);
          const m = s.kernel.machine;
          expect(JSON.stringify(m.cpus.map((c) => [c.rip, ...REGS.map((r) => c.reg(r))].map(String)))).toBe(straight(n));
        }
      }),
      { numRuns: 3 },
    );
  });

  it('names the NMI stack by the design the file was saved from (ret-from-fault keeps the old layout, faulting-iret has its own)', () => {
    const designs = [
      { variant: 'ret-from-fault', slots: 24, role: naiveSlotRole },
      { variant: 'faulting-iret', slots: 36, role: faultingIretSlotRole },
    ] as const;
    for (const d of designs) {
      const saved = { ...file, params: { ...file.params, entry: 'nested', variant: d.variant }, schedule: file.schedule.slice(0, 3) };
      const stack = machineView(new CounterexampleSession('cx.json', JSON.stringify(saved))).stacks[0]!;
      expect(stack.slots.map((x) => x.field), d.variant).toEqual(Array.from({ length: d.slots }, (_, i) => d.role((i + 1) * 8).field));
    }
  });

  it('rejects what is not a counterexample with one line saying why', () => {
    const bad = (t: string): string => {
      try {
        new CounterexampleSession('bad.json', t);
      } catch (e) {
        return (e as Error).message;
      }
      return 'accepted';
    };
    expect(bad('{not json')).toMatch(/bad\.json is not JSON/);
    expect(bad('{"format":"something-else"}')).toMatch(/not a kernsim NMI counterexample/);
    expect(bad(JSON.stringify({ ...file, schedule: [{ kind: 'step', cpu: 0 }, null] }))).toMatch(/schedule entry 1 is not a choice/);
    expect(bad(JSON.stringify({ ...file, schedule: [{ kind: 'step', cpu: 7 }] }))).toMatch(/CPU 7/);
    expect(bad(JSON.stringify({ ...file, schedule: [{ kind: 'event', source: 'smi', cpu: 0 }] }))).toMatch(/smi/);
    expect(bad(JSON.stringify({ ...file, params: { ...file.params, nmis: -1 } }))).toMatch(/nmis/);
    for (const t of ['{not json', JSON.stringify({ ...file, schedule: [] })]) expect(bad(t)).not.toContain('\n');
  });
});
