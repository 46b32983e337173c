import { describe, expect, it } from 'vitest';
import { imm, qword, reg } from '../asm/operands.js';
import { kit } from '../testing/kit.js';
import { MSR, PORT } from './arch.js';

const { eax, edx, ecx } = reg;

describe('devices', () => {
  it('the serial port appends to the console and costs cyclesPerByte per byte', () => {
    const k = kit({ arch: 'x86_64', serial: { cyclesPerByte: 1000 }, cyclesPerInstruction: 2 });
    const a = k.asm();
    a.label('start').mov(edx, imm(PORT.SERIAL));
    for (const ch of 'ok\n') a.mov(reg.al, imm(ch.charCodeAt(0))).out(reg.dx, reg.al);
    a.hlt();
    k.m.loadCode(a.assemble());
    k.m.start(0, { rip: 'start', rsp: k.stackTop(0) });
    k.m.run({ steps: 100 });
    expect(k.m.console).toBe('ok\n');
    const cpu = k.m.cpus[0]!;
    expect(cpu.instructions).toBe(8);
    expect(cpu.cycles).toBe(3 * 1000 + 8 * 2);
  });

  it('the default serial cost is slow (87 000 cycles a byte)', () => {
    const k = kit({ arch: 'x86_64' });
    const a = k.asm();
    a.label('start').mov(edx, imm(PORT.SERIAL)).out(reg.dx, reg.al).hlt();
    k.m.loadCode(a.assemble());
    k.m.start(0, { rip: 'start', rsp: k.stackTop(0) });
    k.m.run({ steps: 10 });
    expect(k.m.cpus[0]!.cycles).toBeGreaterThanOrEqual(87_000);
  });

  it('a perf-counter NMI source fires every N cycles; an NMI arriving during a slow serial write is latched or dropped', () => {
    const k = kit({ arch: 'x86_64', serial: { cyclesPerByte: 350 } });
    const a = k.asm();
    a.label('start').label('spin').jmp('spin');
    a.label('nmi').add(qword(k.layout.data), imm(1)).mov(edx, imm(PORT.SERIAL)).out(reg.dx, reg.al).iretq();
    k.m.loadCode(a.assemble());
    k.m.setGate(2, { handler: 'nmi' });
    k.m.start(0, { rip: 'start', rsp: k.stackTop(0) });
    k.m.cpus[0]!.setNmiSource(100);
    k.m.run({ steps: 1000 });
    const c = k.m.cpus[0]!.nmiCounters;
    expect(c.raised).toBe(Math.floor(k.m.cpus[0]!.cycles / 100));
    expect(c.delivered).toBe(Number(k.m.read(k.layout.data, 8)));
    expect(c.dropped).toBeGreaterThan(0); // the 350-cycle write in the handler outlasts the 100-cycle period
    expect(c.raised).toBe(c.delivered + c.dropped + (k.m.cpus[0]!.nmiPending ? 1 : 0));
  });

  it('the local APIC sends NMIs to all-but-self, and fixed IPIs to one CPU, by port and by x2APIC MSR', () => {
    const k = kit({ arch: 'x86_64', cpus: 4 });
    const a = k.asm();
    a.label('idle').sti().label('spin').hlt().jmp('spin');
    a.label('nmi').mov(edx, imm(PORT.APIC_ID)).in(eax, reg.dx).lock().add(qword(k.layout.data), imm(1)).iretq();
    a.label('ipi').lock().add(qword(k.layout.data + 8n), imm(1)).iretq();
    a.label('sender').mov(edx, imm(PORT.APIC_ICR)).mov(eax, imm((3 << 18) | (4 << 8))).out(reg.dx, eax);
    a.mov(edx, imm(PORT.APIC_ICR_DEST)).mov(eax, imm(2)).out(reg.dx, eax).mov(edx, imm(PORT.APIC_ICR)).mov(eax, imm(0x40)).out(reg.dx, eax);
    a.mov(ecx, imm(MSR.X2APIC_ICR)).mov(eax, imm(0x40)).mov(edx, imm(3)).wrmsr().hlt();
    k.m.loadCode(a.assemble());
    k.m.setGate(2, { handler: 'nmi' });
    k.m.setGate(0x40, { handler: 'ipi' });
    for (let i = 1; i < 4; i++) k.m.start(i, { rip: 'idle', rsp: k.stackTop(i) });
    k.m.start(0, { rip: 'sender', rsp: k.stackTop(0) });
    k.m.run({ steps: 200 });
    expect(k.m.read(k.layout.data, 8)).toBe(3n);
    expect(k.m.read(k.layout.data + 8n, 8)).toBe(2n);
    expect(k.m.cpus.map((c) => c.nmiCounters.delivered)).toEqual([0, 1, 1, 1]);
    // Counters: three send commands from CPU 0; CPU 2 and 3 got the NMI and one fixed IPI each.
    expect(k.m.cpus.map((c) => c.counters.ipisSent)).toEqual([3, 0, 0, 0]);
    expect(k.m.cpus.map((c) => c.counters.ipisReceived)).toEqual([0, 1, 2, 2]);
    expect(k.m.cpus.map((c) => c.counters.delivered[0x40])).toEqual([0, 0, 1, 1]);
    expect(k.m.cpus.map((c) => c.counters.delivered[2])).toEqual([0, 1, 1, 1]);
    // The halted CPUs woke for each IPI and went back to hlt: all are halted again.
    expect(k.m.cpus.map((c) => c.status)).toEqual(['halted', 'halted', 'halted', 'halted']);
  });

  it('through the x2APIC ICR, APIC id 255 is CPU 255: only 0xffffffff broadcasts', () => {
    const k = kit({ arch: 'x86_64', cpus: 260, memoryMiB: 64 });
    const a = k.asm();
    a.label('idle').sti().label('spin').hlt().jmp('spin');
    a.label('ipi').lock().add(qword(k.layout.data), imm(1)).iretq();
    a.label('sender').mov(ecx, imm(MSR.X2APIC_ICR)).mov(eax, imm(0x40)).mov(edx, imm(255)).wrmsr().hlt();
    k.m.loadCode(a.assemble());
    k.m.setGate(0x40, { handler: 'ipi' });
    // The kit maps stacks for 64 CPUs; 4 KiB each for all 260 here.
    const stacks = 0xffffffff90000000n;
    k.m.map(stacks, 260 * 0x1000);
    for (let i = 1; i < 260; i++) k.m.start(i, { rip: 'idle', rsp: stacks + BigInt(0x1000 * (i + 1)) });
    k.m.start(0, { rip: 'sender', rsp: stacks + 0x1000n });
    k.m.run({ until: () => k.m.cpus[0]!.status === 'halted' && k.m.cpus.every((c) => c.status === 'halted'), steps: 2_000_000 });
    k.m.run({ steps: 50_000 });
    expect(k.m.read(k.layout.data, 8)).toBe(1n);
    expect(k.m.cpus.filter((c) => c.counters.delivered[0x40] === 1).map((c) => c.id)).toEqual([255]);
  });

  it('a timer interrupt stays pending while IF=0', () => {
    const k = kit({ arch: 'x86_64' });
    const a = k.asm();
    a.label('start').mov(ecx, imm(100)).label('.l').dec(ecx).jnz('.l').sti().label('spin').jmp('spin');
    a.label('tick').add(qword(k.layout.data), imm(1)).iretq();
    k.m.loadCode(a.assemble());
    k.m.setGate(0xef, { handler: 'tick' });
    k.m.start(0, { rip: 'start', rsp: k.stackTop(0) });
    k.m.cpus[0]!.setTimer(50);
    k.m.run({ steps: 150 });
    expect(k.m.read(k.layout.data, 8)).toBe(0n);
    k.m.run({ steps: 200 });
    expect(k.m.read(k.layout.data, 8)).toBeGreaterThan(1n);
  });
});

describe('execution watches', () => {
  it('report each instruction executed in the range with its bytes, and stop when removed', () => {
    const k = kit({ arch: 'x86_64' });
    const a = k.asm();
    a.label('start').nop().label('watched').add(qword(k.layout.data), imm(1)).nop(3).jmp('start');
    k.m.loadCode(a.assemble());
    k.m.start(0, { rip: 'start', rsp: k.stackTop(0) });
    const seen: string[] = [];
    const stop = k.m.onExecute(k.m.address('watched'), 12, (cpu, rip, bytes) => {
      seen.push(`${cpu}:${(rip - k.m.address('watched')).toString()}:${Array.from(bytes, (b) => b.toString(16)).join(',')}`);
    });
    k.m.run({ steps: 8 });
    expect(seen).toEqual(['0:0:48,83,4,25,0,0,0,82,1', '0:9:f,1f,0', '0:0:48,83,4,25,0,0,0,82,1', '0:9:f,1f,0']);
    stop();
    k.m.run({ steps: 8 });
    expect(seen).toHaveLength(4);
    expect(() => k.m.onExecute(0x1000n, 1, () => undefined)).toThrow(expect.objectContaining({ code: 'KERNSIM_CPU_UNMAPPED' }));
  });
});
