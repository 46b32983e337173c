import { describe, expect, it } from 'vitest';
import { Assembler } from '../asm/assembler.js';
import { imm, mem, qword, dword, reg } from '../asm/operands.js';
import { kit } from '../testing/kit.js';
import type { Kit } from '../testing/kit.js';
import type { TraceEvent } from './trace.js';

const { rax } = reg;
type Delivery = Extract<TraceEvent, { kind: 'delivery' }>;
const deliveries = (t: readonly TraceEvent[]): Delivery[] => t.filter((e): e is Delivery => e.kind === 'delivery');
const field = (d: Delivery, name: string): bigint => d.words.find((w) => w.field === name)!.value;
const addr = (d: Delivery, name: string): bigint => d.words.find((w) => w.field === name)!.address;

/** Writes an IDT pseudo-descriptor (2-byte limit, then the base) into memory. */
function descriptor(k: Kit, at: bigint, base: bigint, limit: number): void {
  k.m.write(at, 2, BigInt(limit));
  k.m.write(at + 2n, k.m.bitness === 64 ? 8 : 4, base);
}

describe('IDT in memory, per-CPU IDTR, lidt/sidt', () => {
  it('boot IDTRs name the default table, whose gates setGate writes as SDM descriptors', () => {
    const k = kit({ arch: 'x86_64', cpus: 2 });
    const a = k.asm();
    a.label('h').hlt();
    k.m.loadCode(a.assemble());
    k.m.setGate(3, { handler: 'h', ist: 4, dpl: 3, type: 'trap' });
    for (const cpu of k.m.cpus) expect(cpu.idtr).toEqual(k.m.idt);
    expect(k.m.idt.limit).toBe(0xfff);
    const g = k.m.readBytes(k.m.idt.base + 3n * 16n, 16);
    const h = k.m.address('h');
    expect(g[0]! | (g[1]! << 8)).toBe(Number(h & 0xffffn));
    expect(g[2]! | (g[3]! << 8)).toBe(0x10); // kernel CS
    expect(g[4]).toBe(4); // IST
    expect(g[5]).toBe(0x80 | (3 << 5) | 0xf); // P, DPL 3, trap gate
    expect(BigInt(g[6]! | (g[7]! << 8))).toBe((h >> 16n) & 0xffffn);
    expect(k.m.read(k.m.idt.base + 3n * 16n + 8n, 4)).toBe(h >> 32n);
    expect(k.m.getGate(3)).toEqual({ handler: h, dpl: 3, ist: 4, type: 'trap', selector: 0x10 });
    k.m.clearGate(3);
    expect(k.m.getGate(3)).toBeUndefined();
  });

  for (const arch of ['x86_64', 'i386'] as const) {
    it(`${arch}: lidt switches one CPU's table only; sidt stores what lidt loaded`, () => {
      const k = kit({ arch, cpus: 2 });
      const is64 = arch === 'x86_64';
      const second = k.layout.data + 0x1000n;
      const descr = k.layout.data + 0x100n;
      const out = k.layout.data + 0x200n;
      const a = k.asm();
      a.label('switcher').lidt(mem(descr)).sidt(mem(out)).int3().hlt();
      a.label('stayer').int3().hlt();
      a.label('bp_default').hlt();
      a.label('bp_second').hlt();
      k.m.loadCode(a.assemble());
      k.m.setGate(3, { handler: 'bp_default' });
      k.m.setGate(3, { handler: 'bp_second' }, { table: second });
      const limit = 256 * (is64 ? 16 : 8) - 1;
      descriptor(k, descr, second, limit);
      k.m.start(0, { rip: 'switcher', rsp: k.stackTop(0) });
      k.m.start(1, { rip: 'stayer', rsp: k.stackTop(1) });
      k.m.run({ steps: 20 });
      expect(k.m.cpus[0]!.rip).toBe(k.m.address('bp_second') + 1n);
      expect(k.m.cpus[1]!.rip).toBe(k.m.address('bp_default') + 1n);
      expect(k.m.cpus[0]!.idtr).toEqual({ base: second, limit });
      expect(k.m.cpus[1]!.idtr).toEqual(k.m.idt);
      expect(k.m.read(out, 2)).toBe(BigInt(limit));
      expect(k.m.read(out + 2n, is64 ? 8 : 4)).toBe(second);
    });
  }

  it("a vector whose gate in the second table has IST 0 is delivered on the current stack (3.3's nmi_idt_table)", () => {
    const k = kit({ arch: 'x86_64' });
    const second = k.layout.data + 0x1000n;
    const descr = k.layout.data + 0x100n;
    const ist4 = k.stackTop(4);
    const a = k.asm();
    a.label('start').int3().lidt(mem(descr)).int3().hlt();
    a.label('bp').iretq();
    k.m.loadCode(a.assemble());
    k.m.cpus[0]!.setTss({ ist: { 4: ist4 } });
    k.m.setGate(3, { handler: 'bp', ist: 4 });
    k.m.setGate(3, { handler: 'bp', ist: 0 }, { table: second });
    descriptor(k, descr, second, 0xfff);
    k.m.start(0, { rip: 'start', rsp: k.stackTop(0) - 0x100n });
    k.m.startTrace({ kinds: ['delivery'] });
    k.m.run({ steps: 10 });
    const [viaIst, viaStack] = deliveries(k.m.trace) as [Delivery, Delivery];
    expect(viaIst.ist).toBe(4);
    expect(addr(viaIst, 'SS')).toBe(ist4 - 8n);
    expect(viaStack.ist).toBe(0);
    expect(addr(viaStack, 'SS')).toBe(k.stackTop(0) - 0x100n - 8n);
  });

  it('a vector beyond the IDT limit raises #GP(vector*8+2+EXT), delivered through a gate within the limit', () => {
    const k = kit({ arch: 'x86_64' });
    const second = k.layout.data + 0x1000n;
    const descr = k.layout.data + 0x100n;
    const a = k.asm();
    a.label('start').lidt(mem(descr)).sti().label('spin').jmp('spin');
    a.label('gp').hlt();
    k.m.loadCode(a.assemble());
    k.m.setGate(13, { handler: 'gp' }, { table: second });
    k.m.setGate(0x30, { handler: 'gp' }, { table: second });
    descriptor(k, descr, second, 14 * 16 - 1); // vectors 0..13 only
    k.m.start(0, { rip: 'start', rsp: k.stackTop(0) });
    k.m.startTrace({ kinds: ['delivery', 'fault'] });
    k.m.run({ steps: 3 });
    k.m.injectIrq(0, 0x30);
    k.m.run({ steps: 3 });
    const [d] = deliveries(k.m.trace);
    expect(d!.name).toBe('#GP');
    expect(field(d!, 'error code')).toBe(BigInt(0x30 * 8 + 2 + 1)); // IDT bit and EXT: an external interrupt
    expect(k.m.cpus[0]!.rip).toBe(k.m.address('gp') + 1n);
    // A #PF beyond the limit: #GP while delivering #PF is a double fault (#DF is within the limit here).
    k.m.setGate(8, { handler: 'gp' }, { table: second });
    const b = k.asm(0x8000);
    b.label('pf_start').mov(rax, qword(0x1000)).hlt();
    k.m.loadCode(b.assemble());
    k.m.start(0, { rip: 'pf_start', rsp: k.stackTop(0) });
    k.m.startTrace({ kinds: ['delivery'] });
    k.m.run({ steps: 2 });
    expect(deliveries(k.m.trace).map((e) => e.name)).toEqual(['#DF']);
  });

  it('a limit that leaves out #GP and #DF ends in a triple fault', () => {
    const k = kit({ arch: 'i386' });
    const descr = k.layout.data + 0x100n;
    const a = k.asm();
    a.label('start').lidt(mem(descr)).int3().hlt();
    a.label('any').hlt();
    k.m.loadCode(a.assemble());
    for (const v of [3, 8, 13]) k.m.setGate(v, { handler: 'any' });
    descriptor(k, descr, k.m.idt.base, 3 * 8 - 1); // vectors 0..2 only
    k.m.start(0, { rip: 'start', rsp: k.stackTop(0) });
    k.m.startTrace({ kinds: ['fault', 'death'] });
    k.m.run({ steps: 5 });
    expect(k.m.cpus[0]!.status).toBe('dead');
    expect(k.m.cpus[0]!.deathReason).toMatch(/triple fault/);
    // int3 -> #GP (beyond limit) -> #GP while delivering #GP -> #DF -> #GP while delivering #DF.
    expect(k.m.trace.map((e) => (e.kind === 'fault' ? e.name : e.kind))).toEqual(['#BP', '#GP', '#GP', 'death']);
  });

  it('int3 or an NMI with no gate raises #GP (not #DF); for int n the #GP is reported at the int instruction', () => {
    const k = kit({ arch: 'x86_64' });
    const a = k.asm();
    a.label('start').label('the_int').int3().hlt();
    a.label('gp').hlt();
    a.label('spin').jmp('spin');
    k.m.loadCode(a.assemble());
    k.m.setGate(13, { handler: 'gp' });
    k.m.start(0, { rip: 'start', rsp: k.stackTop(0) });
    k.m.startTrace({ kinds: ['delivery'] });
    k.m.run({ steps: 3 });
    const [d] = deliveries(k.m.trace);
    expect(d!.name).toBe('#GP');
    expect(field(d!, 'error code')).toBe(BigInt(3 * 8 + 2)); // software: EXT clear
    expect(field(d!, 'RIP')).toBe(k.m.address('the_int'));

    k.m.start(0, { rip: 'spin', rsp: k.stackTop(0) });
    k.m.startTrace({ kinds: ['delivery'] });
    k.m.injectNmi(0);
    k.m.run({ steps: 2 });
    const [n] = deliveries(k.m.trace);
    expect(n!.name).toBe('#GP');
    expect(field(n!, 'error code')).toBe(BigInt(2 * 8 + 2 + 1)); // external: EXT set
  });

  it('delivery reads the gate from memory: machine code that rewrites a gate redirects the next delivery', () => {
    const k = kit({ arch: 'x86_64' });
    const a = k.asm();
    a.label('bp_old').hlt();
    a.label('bp_new').hlt();
    k.m.loadCode(a.assemble());
    k.m.setGate(3, { handler: 'bp_old' });
    // Same upper offset bits (same page of text): rewriting the descriptor's low quadword is enough.
    const g = k.m.read(k.m.idt.base + 3n * 16n, 8);
    const low = (g & ~0xffffn) | (k.m.address('bp_new') & 0xffffn);
    const b = k.asm(0x8000);
    b.label('start2').movabs(rax, low).movabs(reg.rdx, k.m.idt.base + 3n * 16n).mov(qword(reg.rdx), rax).int3().hlt();
    k.m.loadCode(b.assemble());
    k.m.start(0, { rip: 'start2', rsp: k.stackTop(0) });
    k.m.run({ steps: 5 });
    expect(k.m.cpus[0]!.rip).toBe(k.m.address('bp_new') + 1n);
  });

  it('lidt at CPL 3 is #GP(0); a non-present gate is #GP with EXT for hardware events', () => {
    const k = kit({ arch: 'x86_64' });
    k.m.map(0x400000n, 0x1000, { user: true });
    const a = k.asm();
    a.label('gp').hlt();
    k.m.loadCode(a.assemble());
    k.m.setGate(13, { handler: 'gp' });
    k.m.cpus[0]!.setTss({ sp0: k.stackTop(0) });
    const user = new Assembler({ bitness: 64, origin: 0x400000n });
    user.label('u').lidt(mem(0x400800n)).hlt();
    k.m.loadCode(user.assemble());
    k.m.start(0, { rip: 'u', rsp: 0x400f00n, cpl: 3 });
    k.m.startTrace({ kinds: ['delivery'] });
    k.m.run({ steps: 2 });
    const [d] = deliveries(k.m.trace);
    expect(d!.name).toBe('#GP');
    expect(field(d!, 'error code')).toBe(0n);
    expect(d!.fromCpl).toBe(3);
    expect(k.m.cpus[0]!.idtr).toEqual(k.m.idt);
  });

  it('snapshots and the state hash cover the IDTR', () => {
    const k = kit({ arch: 'x86_64' });
    const descr = k.layout.data + 0x100n;
    const a = k.asm();
    a.label('start').lidt(mem(descr)).hlt();
    k.m.loadCode(a.assemble());
    descriptor(k, descr, k.layout.data + 0x1000n, 0xfff);
    k.m.start(0, { rip: 'start', rsp: k.stackTop(0) });
    const snap = k.m.snapshot();
    k.m.step(0);
    const after = k.m.hash();
    expect(k.m.cpus[0]!.idtr.base).toBe(k.layout.data + 0x1000n);
    k.m.restore(snap);
    expect(k.m.cpus[0]!.idtr).toEqual(k.m.idt);
    expect(k.m.hash()).toBe(snap.hash);
    k.m.step(0);
    expect(k.m.hash()).toBe(after);
    // Same everything but the IDTR: the hash still tells the states apart.
    k.m.restore(snap);
    k.m.cpus[0]!.setIdtr({ base: k.layout.data + 0x1000n, limit: 0xfff });
    expect(k.m.hash()).not.toBe(snap.hash);
  });
});

describe('TSS in simulated memory', () => {
  it('x86_64: deliveries read IST from tss+0x24+8*(n-1), so machine code can shift it (3.3 paranoid entry)', () => {
    const k = kit({ arch: 'x86_64' });
    const tss = k.layout.data + 0x3000n;
    const top = k.stackTop(4);
    const a = k.asm();
    a.label('start').int3().sub(qword(tss + 0x24n + 8n * 3n), imm(0x1000)).int3().hlt();
    a.label('bp').iretq();
    k.m.loadCode(a.assemble());
    k.m.cpus[0]!.setTss({ base: tss, ist: { 4: top }, sp0: k.stackTop(0) });
    expect(k.m.read(tss + 0x24n + 24n, 8)).toBe(top);
    expect(k.m.read(tss + 4n, 8)).toBe(k.stackTop(0));
    expect(k.m.cpus[0]!.tss.ist[4]).toBe(top);
    k.m.setGate(3, { handler: 'bp', ist: 4 });
    k.m.start(0, { rip: 'start', rsp: k.stackTop(0) });
    k.m.startTrace({ kinds: ['delivery'] });
    k.m.run({ steps: 10 });
    const [d1, d2] = deliveries(k.m.trace) as [Delivery, Delivery];
    expect(addr(d1, 'SS')).toBe(top - 8n);
    expect(addr(d2, 'SS')).toBe(top - 0x1000n - 8n);
    expect(k.m.cpus[0]!.tss.ist[4]).toBe(top - 0x1000n);
  });

  it('i386: entry from CPL 3 reads esp0 from tss+4', () => {
    const k = kit({ arch: 'i386' });
    const tss = k.layout.data + 0x3000n;
    k.m.map(0x08048000n, 0x1000, { user: true });
    const a = k.asm();
    a.label('boot').mov(dword(tss + 4n), imm(Number(k.stackTop(2)))).hlt();
    a.label('bp').hlt();
    k.m.loadCode(a.assemble());
    const user = new Assembler({ bitness: 32, origin: 0x08048000n });
    user.label('u').int3();
    k.m.loadCode(user.assemble());
    k.m.cpus[0]!.setTss({ base: tss, sp0: k.stackTop(1) });
    k.m.setGate(3, { handler: 'bp', dpl: 3 });
    k.m.start(0, { rip: 'boot', rsp: k.stackTop(0) });
    k.m.run({ steps: 2 });
    k.m.start(0, { rip: 'u', rsp: 0x08048800n, cpl: 3 });
    k.m.startTrace({ kinds: ['delivery'] });
    k.m.run({ steps: 2 });
    const [d] = deliveries(k.m.trace);
    expect(addr(d!, 'SS')).toBe(k.stackTop(2) - 4n);
    expect(k.m.cpus[0]!.tss).toMatchObject({ base: tss, sp0: k.stackTop(2) });
  });

  it('a TSS base that is not mapped is refused with a typed error', () => {
    const k = kit({ arch: 'x86_64' });
    expect(() => {
      k.m.cpus[0]!.setTss({ base: 0x5000n });
    }).toThrow(expect.objectContaining({ code: 'KERNSIM_CPU_UNMAPPED' }));
  });
});
