import type { RegName } from '@kernsim/cpu-core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from './config.js';
import type { NmiConfig } from './config.js';
import { NmiSession, runConfigured, SNAPSHOT_INTERVAL } from './session.js';
import { machineView } from './view.js';

const REGS: readonly RegName[] = ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r11', 'r15'];

/** The machine's registers and console at every step in `wanted`, from one straight run (no snapshots, no replay). */
function straight(config: NmiConfig, wanted: ReadonlySet<number>): Map<number, string> {
  const seen = new Map<number, string>();
  let steps = 0;
  const injected = new Map(config.injections.map((i) => [i.step, i.source]));
  runConfigured(config, {
    setup: () => undefined,
    probe: (k) => {
      if (wanted.has(steps)) {
        const m = k.machine;
        seen.set(steps, JSON.stringify([m.cpus.map((c) => [c.rip, ...REGS.map((r) => c.reg(r))].map(String)), m.console.length]));
      }
      return injected.get(steps++);
    },
  });
  return seen;
}

function stateOf(session: NmiSession): string {
  const m = session.kernel.machine;
  return JSON.stringify([m.cpus.map((c) => [c.rip, ...REGS.map((r) => c.reg(r))].map(String)), m.console.length]);
}

describe('NmiSession', () => {
  const naive: NmiConfig = { ...DEFAULT_CONFIG, entry: 'naive' };
  const session = new NmiSession(naive);

  it('records the whole run the scenario runner made', () => {
    expect(session.result.crashed).toBe(true);
    expect(session.steps).toBeGreaterThan(10 * SNAPSHOT_INTERVAL);
    expect(session.at).toBe(session.steps);
  });

  it('seeks, in any order, to the state the straight run had at that step', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: session.steps - 2 }), { minLength: 1, maxLength: 12 }), (steps) => {
        const want = straight(naive, new Set(steps));
        for (const step of steps) {
          expect(session.seek(step)).toBe(step);
          expect(stateOf(session)).toBe(want.get(step));
        }
      }),
      { numRuns: 4 },
    );
  });

  it('replays an injected NMI: the run changes from that step on, not before', () => {
    const step = 3000;
    const injected = new NmiSession({ ...DEFAULT_CONFIG, injections: [{ step, source: 'watchdog' }] });
    const plain = new NmiSession(DEFAULT_CONFIG);
    expect(injected.result.nmis.raised).toBe(plain.result.nmis.raised + 1);
    expect(injected.result.events.filter((e) => e.step < step)).toEqual(plain.result.events.filter((e) => e.step < step));
    // CPU 0 is inside the first NMI there: the hardware latches the new one.
    expect(injected.result.events.some((e) => e.step === step && (e.kind === 'nmi-raised' || e.kind === 'nmi-latched'))).toBe(true);
    const want = straight(injected.config, new Set([step + 1, step + 700]));
    injected.seek(step + 700);
    expect(stateOf(injected)).toBe(want.get(step + 700));
    injected.seek(step + 1);
    expect(stateOf(injected)).toBe(want.get(step + 1));
    const cpu = machineView(injected).cpus[injected.cpuAt(step)!]!;
    expect(cpu.nmiPending).toBe(true);
    plain.seek(step + 1);
    expect(machineView(plain).cpus[cpu.id]!.nmiPending).toBe(false);
  });

  it('clamps seeks to the run', () => {
    expect(session.seek(-5)).toBe(0);
    expect(session.seek(session.steps + 100)).toBe(session.steps);
  });
});

describe('machineView', () => {
  it('names the 3.3 entry slots and marks the CPU that runs next', () => {
    const s = new NmiSession(DEFAULT_CONFIG);
    const first = s.result.events.find((e) => e.kind === 'landmark' && e.text === 'restart_nmi');
    expect(first).toBeDefined();
    s.seek(first!.step + 40);
    const v = machineView(s);
    const stack = v.stacks[first!.cpu]!;
    expect(stack.slots.map((x) => x.region).slice(0, 7)).toEqual(['hardware frame', 'hardware frame', 'hardware frame', 'hardware frame', 'hardware frame', 'rdx temp', 'NMI executing']);
    expect(stack.slots[6]!.value).toBe('0000000000000001');
    expect(v.nextCpu).toBe(s.cpuAt(v.step));
    expect(v.cpus.every((c) => c.code.filter((l) => l.current).length === 1)).toBe(true);
  });

  it('lists the last instructions executed, each where its CPU was before the step, and stays at the step', () => {
    const s = new NmiSession(DEFAULT_CONFIG);
    s.seek(5000);
    const v = machineView(s);
    expect(s.at).toBe(5000);
    expect(v.executed.map((e) => e.step)).toEqual(Array.from({ length: 16 }, (_, i) => 4984 + i));
    const last = v.executed.at(-1)!;
    expect(last.cpu).toBe(s.cpuAt(4999));
    s.seek(4999);
    expect(last.address).toBe(s.kernel.machine.cpus[last.cpu]!.rip.toString(16).padStart(16, '0'));
    expect(last.text).not.toMatch(/not mapped|undecodable/);
  });

  it('draws the i386 stack as named frames where the NMI pushed them, and the nmi_state latch', () => {
    const s = new NmiSession({ ...DEFAULT_CONFIG, arch: 'i386' });
    const restart = s.result.events.find((e) => e.kind === 'landmark' && e.text === 'nmi_restart')!;
    s.seek(restart.step - 1);
    const before = machineView(s).stacks[restart.cpu]!;
    expect(before.latch?.name).toBe('NMI_NOT_RUNNING');
    s.seek(restart.step + 2);
    const v = machineView(s);
    const stack = v.stacks[restart.cpu]!;
    expect(stack.latch?.name).toBe('NMI_EXECUTING');
    const nmi = stack.slots.filter((x) => x.owner === 'NMI');
    expect(nmi.map((x) => x.field).slice(0, 15)).toEqual(['EFLAGS', 'CS', 'EIP', 'orig_ax', 'gs', 'fs', 'es', 'ds', 'ax', 'bp', 'di', 'si', 'dx', 'cx', 'bx']);
    // Below the frame: the handler's own words, named after the frame they run on.
    expect(stack.slots[15]).toMatchObject({ owner: 'NMI', region: 'handler frames' });
    const eip = nmi.find((x) => x.field === 'EIP')!;
    expect(eip.symbol).toBeDefined();
    expect(nmi.find((x) => x.field === 'orig_ax')!.value).toBe(nmi.find((x) => x.field === 'ax')!.value);
    expect(v.cpus[0]!.regs[0]!.name).toBe('eax');
  });
});
