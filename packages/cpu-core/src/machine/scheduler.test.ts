import { describe, expect, it } from 'vitest';
import { imm, qword, reg } from '../asm/operands.js';
import { kit } from '../testing/kit.js';
import type { MachineConfig } from './machine.js';

const { rax } = reg;

/** Every CPU counts in its own slot; CPU 2 halts after a few iterations (so round-robin must skip it). */
function spinners(cpus: number, extra: Partial<MachineConfig> = {}) {
  const k = kit({ arch: 'x86_64', cpus, ...extra });
  const a = k.asm();
  a.label('start').add(qword(reg.rsp, -8), imm(1)).jmp('start');
  a.label('short').mov(rax, imm(3)).label('.l').sub(rax, imm(1)).jnz('.l').hlt();
  k.m.loadCode(a.assemble());
  for (let i = 0; i < cpus; i++) k.m.start(i, { rip: i === 2 ? 'short' : 'start', rsp: k.stackTop(i) });
  return k;
}

describe('round-robin scheduling and the recorded schedule', () => {
  it('steps runnable CPUs in turn, skipping a halted one, and records it compactly enough to replay', () => {
    const a = spinners(5);
    a.m.startTrace({ kinds: ['instruction'] });
    a.m.run({ steps: 1000 });
    const s = a.m.schedule();
    expect(s).toHaveLength(1000);
    expect(a.m.scheduleLength).toBe(1000);
    expect(s.slice(0, 6).map((e) => e.cpu)).toEqual([0, 1, 2, 3, 4, 0]);
    // CPU 2 runs its short loop and halts: after that it no longer appears.
    const cpu2 = s.filter((e) => e.cpu === 2).length;
    expect(cpu2).toBe(a.m.cpus[2]!.instructions);
    expect(s.slice(-8).some((e) => e.cpu === 2)).toBe(false);
    const b = spinners(5);
    b.m.startTrace({ kinds: ['instruction'] });
    b.m.run({ steps: 1e6, scheduler: { kind: 'replay', schedule: s } });
    expect(b.m.traceHash()).toBe(a.m.traceHash());
    expect(b.m.hash()).toBe(a.m.hash());
  });

  it('the schedule of a long round-robin run on 64 CPUs expands exactly (each CPU: one entry per instruction)', () => {
    const k = spinners(64);
    k.m.run({ steps: 200_000 });
    expect(k.m.scheduleLength).toBe(200_000);
    const per = new Array<number>(64).fill(0);
    for (const e of k.m.schedule()) per[e.cpu]!++;
    expect(per).toEqual(k.m.cpus.map((c) => c.instructions));
  });

  it('recordSchedule: false records nothing and runs the same', () => {
    const a = spinners(4);
    const b = spinners(4, { recordSchedule: false });
    a.m.run({ steps: 5000 });
    b.m.run({ steps: 5000 });
    expect(b.m.schedule()).toEqual([]);
    expect(b.m.scheduleLength).toBe(0);
    expect(b.m.hash()).toBe(a.m.hash());
  });

  it('a quantum gives each CPU k steps in a row; the recording replays it', () => {
    const a = spinners(3);
    a.m.run({ steps: 40, scheduler: { kind: 'round-robin', quantum: 10 } });
    const s = a.m.schedule().map((e) => e.cpu);
    expect(s.slice(0, 21)).toEqual([...Array<number>(10).fill(0), ...Array<number>(10).fill(1), 2]);
    const b = spinners(3);
    b.m.run({ steps: 1e6, scheduler: { kind: 'replay', schedule: a.m.schedule() } });
    expect(b.m.hash()).toBe(a.m.hash());
    // With an until predicate the quantum is cut short as soon as it holds.
    const c = spinners(3);
    const r = c.m.run({ steps: 100, scheduler: { kind: 'round-robin', quantum: 10 }, until: (m) => m.cpus[0]!.instructions === 4 });
    expect(r).toEqual({ steps: 4, reason: 'until' });
    expect(() => c.m.run({ scheduler: { kind: 'round-robin', quantum: 0 } })).toThrow(expect.objectContaining({ code: 'KERNSIM_CPU_BAD_ARGUMENT' }));
  });

  it('restore cuts the recorded schedule back to the snapshot', () => {
    const k = spinners(3);
    k.m.run({ steps: 10 });
    const snap = k.m.snapshot();
    const before = k.m.schedule();
    k.m.run({ steps: 25 });
    k.m.injectNmi(1);
    k.m.restore(snap);
    expect(k.m.schedule()).toEqual(before);
    k.m.run({ steps: 5 });
    expect(k.m.scheduleLength).toBe(15);
  });

  it('restoring a later snapshot after an earlier one gives the later schedule, which replays to the same state', () => {
    const k = spinners(3);
    k.m.run({ steps: 10 });
    const s1 = k.m.snapshot();
    k.m.run({ scheduler: { kind: 'random' }, steps: 40 });
    const s2 = k.m.snapshot();
    const atS2 = k.m.schedule();
    k.m.restore(s1);
    k.m.run({ steps: 7 });
    k.m.restore(s2);
    expect(k.m.scheduleLength).toBe(50);
    expect(k.m.schedule()).toEqual(atS2);
    const again = spinners(3);
    again.m.run({ scheduler: { kind: 'replay', schedule: k.m.schedule() } });
    expect(again.m.hash()).toBe(k.m.hash());
  });

  it('reading the schedule or taking a snapshot while a round-robin run is under way changes nothing', () => {
    // An until predicate reads the log at every step (and expands it, snapshots the machine now and
    // then) in the middle of the stride-1 run quantum 1 records; a second machine runs untouched.
    const watched = spinners(4);
    const plain = spinners(4);
    const lengths: number[] = [];
    const snaps: { at: number; snap: ReturnType<typeof watched.m.snapshot> }[] = [];
    watched.m.run({
      steps: 600,
      until: (m) => {
        lengths.push(m.scheduleLength);
        if (lengths.length % 37 === 5) expect(m.schedule()).toHaveLength(m.scheduleLength);
        if (lengths.length % 101 === 50) snaps.push({ at: m.scheduleLength, snap: m.snapshot() });
        return false;
      },
    });
    plain.m.run({ steps: 600 });
    expect(lengths).toEqual(Array.from({ length: 600 }, (_, i) => i));
    expect(watched.m.schedule()).toEqual(plain.m.schedule());
    expect(watched.m.hash()).toBe(plain.m.hash());
    const full = plain.m.schedule();
    for (const { at, snap } of snaps.reverse()) {
      watched.m.restore(snap);
      expect(watched.m.scheduleLength).toBe(at);
      expect(watched.m.schedule()).toEqual(full.slice(0, at));
    }
    // A run from a snapshot taken inside the predicate goes on as the untouched machine did: from
    // the earliest (restored last) to the end, then from each, latest first (a restore cuts the
    // log back; it cannot bring back steps cut before).
    watched.m.run({ steps: 600 - snaps.at(-1)!.at });
    expect(watched.m.schedule()).toEqual(full);
    expect(watched.m.hash()).toBe(plain.m.hash());
    for (const { at, snap } of snaps) {
      watched.m.restore(snap);
      watched.m.run({ steps: 40 });
      expect(watched.m.schedule()).toEqual(full.slice(0, at + 40));
    }
    watched.m.restore(snaps.at(-1)!.snap);
    // Recording goes on from the restored point.
    watched.m.step(3);
    expect(watched.m.schedule()).toEqual([...full.slice(0, snaps.at(-1)!.at), { kind: 'step', cpu: 3 }]);
  });

  it('machine.cycles is the furthest CPU clock', () => {
    const k = spinners(3, { cyclesPerInstruction: 3 });
    k.m.step(0);
    k.m.step(0);
    k.m.step(1);
    expect(k.m.cycles).toBe(6);
    expect(k.m.cpus[1]!.cycles).toBe(3);
  });
});
