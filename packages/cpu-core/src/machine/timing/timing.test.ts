import { describe, expect, it } from 'vitest';
import { byte, imm, qword, reg } from '../../asm/operands.js';
import { kit } from '../../testing/kit.js';
import { PORT } from '../arch.js';
import type { MachineConfig } from '../machine.js';
import { MODELLED_COSTS } from './costs.js';

const { eax, ecx, edx } = reg;
type Build = (a: ReturnType<ReturnType<typeof kit>['asm']>, data: bigint) => void;

/** Cycles one CPU spends on the code `body` emits, from start until it halts. */
function cyclesOf(body: Build, config: Partial<MachineConfig> = {}): number {
  const k = kit({ arch: 'x86_64', ...config });
  const a = k.asm();
  a.label('ud').add(qword(reg.rsp), imm(2)).iretq();
  a.label('start');
  body(a, k.layout.data);
  a.hlt();
  k.m.loadCode(a.assemble());
  k.m.setGate(6, { handler: 'ud' });
  k.m.start(0, { rip: 'start', rsp: k.stackTop(0) });
  k.m.run({ steps: 10_000 });
  expect(k.m.isHalted(0)).toBe(true);
  return k.m.cpus[0]!.cycles;
}

const nops = (n: number): Build => (a) => {
  for (let i = 0; i < n; i++) a.nop();
};

describe('per-instruction costs', () => {
  const base = cyclesOf(nops(0));
  const simple = MODELLED_COSTS.simple.cycles;

  it('modelled: each listed instruction costs its table figure, everything else the simple one', () => {
    expect(cyclesOf(nops(10)) - base).toBe(10 * simple);
    expect(cyclesOf((a) => a.pause()) - base).toBe(MODELLED_COSTS.pause.cycles);
    expect(cyclesOf((a) => a.xor(eax, eax).cpuid()) - base).toBe(simple + MODELLED_COSTS.cpuid.cycles);
    expect(cyclesOf((a, d) => a.lock().add(qword(d), imm(1))) - base).toBe(MODELLED_COSTS.locked.cycles);
    expect(cyclesOf((a) => a.mov(ecx, imm(0xc0000101)).xor(eax, eax).xor(edx, edx).wrmsr()) - base).toBe(3 * simple + MODELLED_COSTS.serialising.cycles);
    expect(cyclesOf((a) => a.mfence()) - base).toBe(MODELLED_COSTS.fence.cycles);
    // A fault: the step that delivers it costs one slot plus the delivery; the handler's add and iret follow.
    expect(cyclesOf((a) => a.ud2()) - base).toBe(simple + MODELLED_COSTS.delivery.cycles + simple + MODELLED_COSTS.iret.cycles);
  });

  it('a wrmsr to an x2APIC register does not serialise (SDM vol. 3A 10.12.3): EOI costs one instruction', () => {
    const eoi = cyclesOf((a) => a.mov(ecx, imm(0x80b)).xor(eax, eax).xor(edx, edx).wrmsr());
    const gsBase = cyclesOf((a) => a.mov(ecx, imm(0xc0000101)).xor(eax, eax).xor(edx, edx).wrmsr());
    expect(eoi - base).toBe(4 * MODELLED_COSTS.simple.cycles);
    expect(gsBase - eoi).toBe(MODELLED_COSTS.serialising.cycles - MODELLED_COSTS.simple.cycles);
  });

  it('flat: every instruction one cyclesPerInstruction, pause eleven, a fault one', () => {
    const flatBase = cyclesOf(nops(0), { timing: 'flat', cyclesPerInstruction: 3 });
    expect(cyclesOf(nops(10), { cyclesPerInstruction: 3 }) - flatBase).toBe(30);
    expect(cyclesOf((a) => a.xor(eax, eax).cpuid(), { timing: 'flat', cyclesPerInstruction: 3 }) - flatBase).toBe(6);
    expect(cyclesOf((a) => a.pause(), { timing: 'flat', cyclesPerInstruction: 3 }) - flatBase).toBe(33);
    expect(cyclesOf((a) => a.ud2(), { timing: 'flat', cyclesPerInstruction: 3 }) - flatBase).toBe(9);
  });

  it('a cost can be overridden', () => {
    expect(cyclesOf((a) => a.xor(eax, eax).cpuid(), { costs: { cpuid: 40 } }) - cyclesOf(nops(0), { costs: { cpuid: 40 } })).toBe(simple + 40);
  });
});

/** `cpus` CPUs each add 1 to one shared counter `rounds` times with `lock add`; returns the slowest CPU's cycles. */
function hammer(cpus: number, rounds: number, config: Partial<MachineConfig> = {}) {
  const k = kit({ arch: 'x86_64', cpus, ...config });
  const a = k.asm();
  a.label('start').mov(ecx, imm(rounds)).label('.l').lock().add(qword(k.layout.data), imm(1)).dec(ecx).jnz('.l').hlt();
  k.m.loadCode(a.assemble());
  for (let i = 0; i < cpus; i++) k.m.start(i, { rip: 'start', rsp: k.stackTop(i) });
  k.m.run({ steps: 10_000_000 });
  expect(k.m.read(k.layout.data, 8)).toBe(BigInt(cpus * rounds));
  const worst = Math.max(...k.m.cpus.map((c) => c.cycles));
  return { worst, transfers: k.m.cpus.reduce((s, c) => s + c.counters.lineTransfers, 0) };
}

describe('cache-line ownership', () => {
  it('a counter hammered by many CPUs costs a serialised transfer per increment', () => {
    const one = hammer(1, 50);
    expect(one.transfers).toBe(0);
    const four = hammer(4, 50);
    const sixteen = hammer(16, 50);
    // Every increment after the first moves the line: 4 * 50 - 1 transfers, all queued on one line.
    expect(four.transfers).toBe(4 * 50 - 1);
    expect(sixteen.transfers).toBe(16 * 50 - 1);
    // The transfers serialise, so the slowest CPU waits for (almost) all of them.
    expect(four.worst).toBeGreaterThan(0.9 * four.transfers * MODELLED_COSTS.lineTransferLocal.cycles);
    expect(sixteen.worst).toBeGreaterThan(3.5 * four.worst);
    expect(one.worst).toBeLessThan(50 * (MODELLED_COSTS.locked.cycles + 3));
  });

  it('4096 CPUs incrementing one counter twice each: the last increment waits for all the transfers before it', () => {
    const big = hammer(4096, 2);
    expect(big.transfers).toBe(4096 * 2 - 1);
    // Round-robin hands the line from CPU i to i + 1: with 8 CPUs per socket, 7 hand-overs in 8
    // stay in the socket and 1 crosses; they queue on the one line, so the slowest CPU's clock
    // is about the sum of all of them.
    const { lineTransferLocal: local, lineTransferRemote: remote } = MODELLED_COSTS;
    const expected = big.transfers * ((7 * local.cycles + remote.cycles) / 8);
    expect(big.worst).toBeGreaterThan(0.95 * expected);
    expect(big.worst).toBeLessThan(1.05 * expected);
  });

  it('across sockets a transfer costs more than within one', () => {
    const same = hammer(4, 20, { topology: { cpusPerSocket: 4 } });
    const apart = hammer(4, 20, { topology: { cpusPerSocket: 1 } });
    expect(apart.worst / same.worst).toBeGreaterThan(0.9 * (MODELLED_COSTS.lineTransferRemote.cycles / MODELLED_COSTS.lineTransferLocal.cycles));
  });

  it('flat timing has no caches', () => {
    expect(hammer(4, 50, { timing: 'flat' }).transfers).toBe(0);
  });
});

describe('IPIs', () => {
  /** CPU 0 sends a fixed IPI (vector 0x40) to each CPU in `dests`, or one all-but-self broadcast; the others halt with IF set. */
  function ipis(cpus: number, dests: number[] | 'broadcast', config: Partial<MachineConfig> = {}, online = cpus) {
    const k = kit({ arch: 'x86_64', cpus, ...config });
    const a = k.asm();
    a.label('idle').sti().label('spin').hlt().jmp('spin');
    // The handler records the receiver's clock (rdtsc) in its slot.
    a.label('ipi').mov(edx, imm(PORT.APIC_ID)).in(eax, reg.dx).mov(ecx, eax).rdtsc().mov(qword(undefined, reg.rcx, 8, k.layout.data), reg.rax).iretq();
    a.label('send');
    if (dests === 'broadcast') a.mov(edx, imm(PORT.APIC_ICR)).mov(eax, imm((3 << 18) | 0x40)).out(reg.dx, eax);
    else for (const d of dests) a.mov(edx, imm(PORT.APIC_ICR_DEST)).mov(eax, imm(d)).out(reg.dx, eax).mov(edx, imm(PORT.APIC_ICR)).mov(eax, imm(0x40)).out(reg.dx, eax);
    a.rdtsc().mov(qword(k.layout.data), reg.rax).hlt();
    k.m.loadCode(a.assemble());
    k.m.setGate(0x40, { handler: 'ipi' });
    for (let i = 1; i < online; i++) k.m.start(i, { rip: 'idle', rsp: k.stackTop(i) });
    k.m.start(0, { rip: 'send', rsp: k.stackTop(0) });
    k.m.run({ steps: 20_000 });
    const arrived = (i: number): bigint => k.m.read(k.layout.data + BigInt(8 * i), 8);
    return { k, sentAt: arrived(0), arrived };
  }

  it('the sender pays an ICR write per destination; each handler starts after the latency', () => {
    const per = ipis(4, [1, 2, 3]);
    const bc = ipis(4, 'broadcast');
    const icr = MODELLED_COSTS.icrWrite.cycles;
    // Three ICR writes against one, and 18 instructions (3 x dest and ICR: mov, mov, out) against 3.
    expect(per.sentAt - bc.sentAt).toBe(BigInt(2 * icr + 15 * MODELLED_COSTS.simple.cycles));
    for (let i = 1; i < 4; i++) expect(bc.arrived(i)).toBeGreaterThanOrEqual(BigInt(MODELLED_COSTS.ipiLatency.cycles));
    expect(per.k.m.cpus.map((c) => c.counters.ipisDelivered)).toEqual([0, 1, 1, 1]);
    expect(per.k.m.cpus[0]!.counters.ipisSent).toBe(3);
    expect(bc.k.m.cpus[0]!.counters.ipisSent).toBe(1);
    expect(bc.k.m.ipisDelivered).toBe(3);
  });

  it('an IPI to an offline CPU is not delivered', () => {
    const r = ipis(4, 'broadcast', {}, 2);
    expect(r.k.m.cpus.map((c) => c.counters.ipisDelivered)).toEqual([0, 1, 0, 0]);
    expect(r.k.m.ipisDelivered).toBe(1);
    // Started later, the CPU does not receive the IPI sent while it was offline.
    r.k.m.start(2, { rip: 'idle', rsp: r.k.stackTop(2) });
    r.k.m.run({ steps: 5000 });
    expect(r.arrived(2)).toBe(0n);
    expect(r.k.m.cpus[2]!.counters.ipisDelivered).toBe(0);
  });

  it('flat timing delivers inside the sending instruction', () => {
    const r = ipis(2, [1], { timing: 'flat' });
    expect(r.arrived(1)).toBeLessThan(r.sentAt + 20n);
  });
});

describe('cross-modified code: executing torn bytes', () => {
  /** CPU 1 spins through a 5-byte nop; CPU 0 writes only its first byte (e8): half of a call. */
  function torn(mode: 'fault' | 'execute') {
    const k = kit({ arch: 'x86_64', cpus: 2, crossModifyingCode: mode, timing: 'flat' });
    const a = k.asm();
    a.label('spin').label('site').nop(5).jmp('spin');
    a.label('gp').hlt();
    a.label('patch').mov(byte(reg.rip, 'site'), imm(0xe8)).hlt();
    k.m.loadCode(a.assemble());
    k.m.setGate(13, { handler: 'gp' });
    const site = k.m.address('site');
    const seen: string[] = [];
    k.m.onExecute(site, 5, (_cpu, _rip, bytes) => seen.push(Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ')));
    k.m.start(1, { rip: 'spin', rsp: k.stackTop(1) });
    k.m.start(0, { rip: 'patch', rsp: k.stackTop(0) });
    k.m.run({ steps: 40 });
    return { k, site, seen };
  }

  it("'fault' raises #GP; 'execute' runs the half-written call and jumps where its old bytes point", () => {
    const strict = torn('fault');
    expect(strict.k.m.cpus[1]!.counters.xmcFaults).toBe(1);
    const wild = torn('execute');
    const cpu1 = wild.k.m.cpus[1]!;
    expect(cpu1.counters.xmcFaults).toBe(0);
    expect(cpu1.counters.xmcTorn).toBeGreaterThan(0);
    expect(wild.seen).toContain('e8 1f 44 00 00');
    // call rel32 0x441f: the return address (site + 5) is on CPU 1's stack, and it went far away.
    expect(wild.k.m.read(wild.k.stackTop(1) - 8n, 8)).toBe(wild.site + 5n);
    expect(cpu1.rip > wild.site + 0x441fn).toBe(true);
  });
});
