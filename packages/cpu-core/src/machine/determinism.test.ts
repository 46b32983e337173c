import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { imm, qword, reg } from '../asm/operands.js';
import { CpuError } from '../errors.js';
import { kit } from '../testing/kit.js';
import { createMachine } from './machine.js';

const { rax, ecx } = reg;

function counters(seed: number) {
  const k = kit({ arch: 'x86_64', cpus: 3, seed });
  const a = k.asm();
  a.label('start').mov(ecx, imm(50)).label('.l').mov(rax, imm(1)).lock().xadd(qword(k.layout.data), rax).dec(ecx).jnz('.l').hlt();
  a.label('nmi').lock().add(qword(k.layout.data + 8n), imm(1)).iretq();
  k.m.loadCode(a.assemble());
  k.m.setGate(2, { handler: 'nmi' });
  for (let i = 0; i < 3; i++) k.m.start(i, { rip: 'start', rsp: k.stackTop(i) });
  return k;
}

describe('determinism and replay', () => {
  it("a seeded random run's recorded schedule replays to the same trace hash and state hash", () => {
    const a = counters(7);
    a.m.startTrace();
    a.m.run({ steps: 2000, scheduler: { kind: 'random', nmiChance: 0.02 } });
    const schedule = a.m.schedule();
    expect(schedule.some((e) => e.kind === 'nmi')).toBe(true);
    const b = counters(99); // a different seed: only the schedule decides
    b.m.startTrace();
    const r = b.m.run({ steps: 1e6, scheduler: { kind: 'replay', schedule } });
    expect(r.reason).toBe('schedule-end');
    expect(b.m.traceHash()).toBe(a.m.traceHash());
    expect(b.m.hash()).toBe(a.m.hash());
    expect(b.m.read(b.layout.data, 8)).toBe(150n);
  });

  it('the same seed gives the same run; another seed another interleaving', () => {
    const run = (seed: number): string => {
      const k = counters(seed);
      k.m.startTrace({ kinds: ['instruction'] });
      k.m.run({ steps: 500, scheduler: { kind: 'random' } });
      return k.m.traceHash();
    };
    expect(run(3)).toBe(run(3));
    expect(run(3)).not.toBe(run(4));
  });

  it('snapshot -> run -> restore gives back the same hash, and the same continuation', () => {
    const k = counters(5);
    k.m.run({ steps: 100, scheduler: { kind: 'random' } });
    const snap = k.m.snapshot();
    const h0 = k.m.hash();
    expect(snap.hash).toBe(h0);
    k.m.run({ steps: 200, scheduler: { kind: 'random' } });
    const h1 = k.m.hash();
    const v1 = k.m.read(k.layout.data, 8);
    expect(h1).not.toBe(h0);
    k.m.restore(snap);
    expect(k.m.hash()).toBe(h0);
    k.m.run({ steps: 200, scheduler: { kind: 'random' } });
    expect(k.m.hash()).toBe(h1);
    expect(k.m.read(k.layout.data, 8)).toBe(v1);
  });

  it('the incremental hash equals a hash computed from scratch', () => {
    const k = counters(2);
    k.m.hash();
    k.m.run({ steps: 300, scheduler: { kind: 'random' } });
    const incremental = k.m.hash();
    const snap = k.m.snapshot();
    const fresh = counters(2);
    fresh.m.run({ steps: 1e6, scheduler: { kind: 'replay', schedule: k.m.schedule() } });
    expect(fresh.m.hash()).toBe(incremental);
    expect(snap.hash).toBe(incremental);
  });
});

describe('fuzz: random code bytes only ever fault inside the machine', () => {
  for (const arch of ['x86_64', 'i386'] as const) {
    it(arch, () => {
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 1, maxLength: 48 }), fc.array(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), { minLength: 16, maxLength: 16 }), (bytes, regs) => {
          const k = kit({ arch, cpus: 2 });
          const a = k.asm(0x1000);
          a.label('handler').iret();
          k.m.loadCode(a.assemble());
          for (const v of [0, 1, 2, 3, 6, 8, 13, 14]) k.m.setGate(v, { handler: 'handler' });
          k.m.loadCode({ origin: k.layout.text, bytes });
          // The same bytes as user code on CPU 1 (CPL 3, entries switch to sp0).
          k.m.map(k.layout.user, 0x2000, { user: true });
          k.m.loadCode({ origin: k.layout.user, bytes });
          k.m.cpus[1]!.setTss({ sp0: k.stackTop(1) });
          const names = ['rax', 'rcx', 'rdx', 'rbx', 'rbp', 'rsi', 'rdi'] as const;
          k.m.start(0, { rip: k.layout.text, rsp: k.stackTop(0) });
          k.m.start(1, { rip: k.layout.user, rsp: k.layout.user + 0x1800n, cpl: 3, interrupts: true });
          names.forEach((n, i) => {
            k.m.cpus[0]!.setReg(n, regs[i]!);
            k.m.cpus[1]!.setReg(n, regs[15 - i]!);
          });
          k.m.startTrace({ limit: 20 });
          k.m.run({ steps: 200, scheduler: { kind: 'random', nmiChance: 0.05 } });
          k.m.hash();
          expect(k.m.formatTrace().length).toBeGreaterThan(0);
        }),
        { numRuns: 150, seed: 42 },
      );
    });
  }
});

describe('API misuse raises typed errors', () => {
  it('invalid configuration', () => {
    const bad = [{ arch: 'arm' as 'i386', cpus: 1 }, { arch: 'x86_64' as const, cpus: 0 }, { arch: 'x86_64' as const, cpus: 4097 }, { arch: 'i386' as const, cpus: 1, cyclesPerInstruction: 0 }];
    for (const c of bad) expect(() => { createMachine(c); }).toThrow(expect.objectContaining({ code: 'KERNSIM_CPU_CONFIG' }) as Error);
    expect(createMachine({ arch: 'x86_64', cpus: 4096 }).cpus).toHaveLength(4096);
  });

  it('overlapping code, code at an unmapped address, bad CPU index, bad schedule', () => {
    const k = kit({ arch: 'x86_64' });
    k.m.loadCode({ origin: k.layout.text, bytes: new Uint8Array([0x90, 0x90]) });
    const err = (f: () => void): string => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(CpuError);
        return (e as CpuError).code;
      }
      return 'no error';
    };
    expect(err(() => { k.m.loadCode({ origin: k.layout.text + 1n, bytes: new Uint8Array([0x90]) }); })).toBe('KERNSIM_CPU_OVERLAP');
    expect(err(() => { k.m.loadCode({ origin: 0x10000n, bytes: new Uint8Array([0x90]) }); })).toBe('KERNSIM_CPU_UNMAPPED');
    expect(err(() => { k.m.step(5); })).toBe('KERNSIM_CPU_BAD_ARGUMENT');
    expect(err(() => { k.m.injectNmi(7); })).toBe('KERNSIM_CPU_BAD_ARGUMENT');
    expect(err(() => { k.m.injectIrq(0, 300); })).toBe('KERNSIM_CPU_SCHEDULE');
    expect(k.m.schedule()).toEqual([]); // refused events are not recorded
    expect(err(() => { k.m.run({ steps: -1 }); })).toBe('KERNSIM_CPU_BAD_ARGUMENT');
    expect(err(() => { k.m.cpus[0]!.setReg('xmm0' as 'rax', 1n); })).toBe('KERNSIM_CPU_BAD_ARGUMENT');
    expect(err(() => { k.m.cpus[0]!.setTss({ ist: { 9: 0n } }); })).toBe('KERNSIM_CPU_BAD_ARGUMENT');
    expect(err(() => { k.m.cpus[0]!.setNmiSource(0); })).toBe('KERNSIM_CPU_BAD_ARGUMENT');
    expect(err(() => { k.m.setGate(300, { handler: 0n }); })).toBe('KERNSIM_CPU_BAD_ARGUMENT');
    expect(err(() => { k.m.setGate(3, { handler: 0n }, { table: 0x5000n }); })).toBe('KERNSIM_CPU_UNMAPPED');
    expect(err(() => { k.m.map(0x8000000000000000n, 0x1000); })).toBe('KERNSIM_CPU_BAD_ARGUMENT');
    expect(err(() => { k.m.watch(0x5000n, 8, 'x'); })).toBe('KERNSIM_CPU_UNMAPPED');
    const other = kit({ arch: 'x86_64', cpus: 2 });
    expect(err(() => { k.m.restore(other.m.snapshot()); })).toBe('KERNSIM_CPU_SNAPSHOT');
    expect(err(() => { k.m.run({ scheduler: { kind: 'replay', schedule: [{ kind: 'step', cpu: 3 }] } }); })).toBe('KERNSIM_CPU_SCHEDULE');
    expect(err(() => { k.m.setGate(2, { handler: 'nowhere' }); })).toBe('KERNSIM_CPU_BAD_ARGUMENT');
    expect(err(() => { k.m.read(0x10000n, 8); })).toBe('KERNSIM_CPU_UNMAPPED');
  });
});
