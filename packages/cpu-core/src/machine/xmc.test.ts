import { describe, expect, it } from 'vitest';
import type { Assembler } from '../asm/assembler.js';
import { byte, dword, imm, qword, reg } from '../asm/operands.js';
import { kit } from '../testing/kit.js';
import { PORT } from './arch.js';

const { eax, edx } = reg;

/**
 * CPU 1 spins through a 5-byte nop (the ftrace site); CPU 0 patches it into `call func`.
 * `sync` sends an IPI to all other CPUs and waits until each acknowledged it (its handler
 * is a serializing interrupt delivery plus iret), like text_poke_bp's sync_core IPIs.
 */
function patchMachine(patch: (a: Assembler, sync: () => void, rel: number) => void, seed = 1, timing: 'flat' | 'modelled' = 'modelled') {
  const k = kit({ arch: 'x86_64', cpus: 2, seed, timing });
  const ack = k.layout.data;
  const called = k.layout.data + 8n;
  const a = k.asm();
  a.label('victim').label('site').nop(5).jmp('site');
  a.label('func').add(qword(called), imm(1)).ret();
  a.label('ipi').add(qword(ack), imm(1)).iretq();
  // int3 handler: as text_poke_bp's handler does, resume after the 5-byte site.
  a.label('bp').add(qword(reg.rsp), imm(4)).iretq();
  a.label('gp').hlt();
  a.label('patcher');
  const code0 = a.assemble();
  const site = code0.symbols.get('site')!;
  const rel = Number(code0.symbols.get('func')! - (site + 5n));
  let syncs = 0;
  const sync = (): void => {
    a.mov(qword(ack), imm(0)).mov(edx, imm(PORT.APIC_ICR)).mov(eax, imm((3 << 18) | 0xf0)).out(reg.dx, eax);
    const l = `.wait${syncs++}`;
    a.label(l).cmp(qword(ack), imm(1)).jb(l);
  };
  patch(a, sync, rel);
  a.hlt();
  const code = a.assemble();
  k.m.loadCode(code);
  k.m.setGate(0xf0, { handler: 'ipi' });
  k.m.setGate(3, { handler: 'bp' });
  k.m.setGate(13, { handler: 'gp' });
  k.m.start(1, { rip: 'victim', rsp: k.stackTop(1), interrupts: true });
  k.m.start(0, { rip: 'patcher', rsp: k.stackTop(0) });
  return { k, site, called };
}

describe('cross-modifying code', () => {
  it('rewriting a 5-byte nop another CPU is executing raises #GP on the executor', () => {
    const { k } = patchMachine((a, _sync, rel) => {
      a.mov(byte(reg.rip, 'site'), imm(0xe8)).mov(dword(reg.rip, 'site', 1), imm(rel));
    });
    k.m.startTrace({ kinds: ['fault', 'delivery'] });
    k.m.run({ steps: 200 });
    const gp = k.m.trace.find((e) => e.kind === 'fault' && e.cpu === 1 && e.vector === 13);
    expect(gp?.kind === 'fault' ? gp.reason : '').toMatch(/cross-modified/);
    expect(k.m.cpus[1]!.rip).toBe(k.m.address('gp') + 1n);
    // Counted, and the CPU says which bytes it had seen and what memory holds now.
    const cpu1 = k.m.cpus[1]!;
    expect(cpu1.counters.xmcFaults).toBe(1);
    expect(cpu1.counters.raised[13]).toBe(1);
    expect(cpu1.counters.delivered[13]).toBe(1);
    expect(cpu1.lastFault).toMatchObject({ vector: 13, errorCode: 0, rip: k.m.address('site') });
    expect(cpu1.lastFault!.reason).toMatch(/saw 0f 1f 44 00 00, memory has e8/);
    expect(k.m.cpus[0]!.counters.xmcFaults).toBe(0);
  });

  it('a CPU that serializes after the write executes the new bytes without #GP', () => {
    const { k, called } = patchMachine((a, sync, rel) => {
      a.mov(byte(reg.rip, 'site'), imm(0xe8)).mov(dword(reg.rip, 'site', 1), imm(rel));
      sync();
    }, 1, 'flat');
    // CPU 0 patches and sends the IPI before CPU 1 moves; under flat timing the IPI is pending at once, so CPU 1's next boundary takes it first.
    k.m.startTrace({ kinds: ['fault'] });
    for (let i = 0; i < 40 && k.m.cpus[0]!.status === 'running'; i++) k.m.step(0);
    k.m.run({ steps: 300 });
    expect(k.m.trace.filter((e) => e.kind === 'fault' && e.vector === 13)).toEqual([]);
    expect(k.m.read(called, 8) > 0n).toBe(true);
  });

  for (const seed of [1, 2, 3, 4, 5]) {
    it(`the int3 sequence (int3, sync, tail, sync, head, sync) never raises #GP and the call runs (random schedule, seed ${seed})`, () => {
      const { k, called, site } = patchMachine((a, sync, rel) => {
        a.mov(byte(reg.rip, 'site'), imm(0xcc));
        sync();
        a.mov(dword(reg.rip, 'site', 1), imm(rel));
        sync();
        a.mov(byte(reg.rip, 'site'), imm(0xe8));
        sync();
      }, seed);
      // What CPU 1 executes at the site, as it sees the bytes.
      const seen: string[] = [];
      k.m.onExecute(site, 5, (cpu, rip, bytes) => {
        const s = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
        if (cpu === 1 && rip === site && seen[seen.length - 1] !== s) seen.push(s);
      });
      k.m.startTrace({ kinds: ['fault'] });
      // Each sync waits for an IPI's modelled latency (thousands of cycles) while CPU 0 spins.
      k.m.run({ steps: 40_000, scheduler: { kind: 'random' } });
      expect(k.m.cpus[0]!.status).toBe('halted');
      expect(k.m.trace.filter((e) => e.kind === 'fault' && e.vector === 13)).toEqual([]);
      // old nop -> int3 (its length is 1) -> the new call; never a mix of old and new tails.
      const rel = k.m.readBytes(site + 1n, 4);
      const call = ['e8', ...Array.from(rel, (b) => b.toString(16).padStart(2, '0'))].join(' ');
      const order = ['0f 1f 44 00 00', 'cc', call];
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.every((s, i) => order.includes(s) && (i === 0 || order.indexOf(s) > order.indexOf(seen[i - 1]!)))).toBe(true);
      expect(k.m.read(site, 1)).toBe(0xe8n);
      k.m.run({ steps: 50 });
      expect(k.m.read(called, 8) > 0n).toBe(true);
    });
  }
});
