import { describe, expect, it } from 'vitest';
import { Assembler } from '../asm/assembler.js';
import { imm, qword, dword, reg } from '../asm/operands.js';
import { kit } from '../testing/kit.js';
import type { TraceEvent } from './trace.js';

const { rax, rsp, eax, esp } = reg;
type Delivery = Extract<TraceEvent, { kind: 'delivery' }>;
const deliveries = (t: readonly TraceEvent[]): Delivery[] => t.filter((e): e is Delivery => e.kind === 'delivery');
const field = (d: Delivery, name: string): bigint => d.words.find((w) => w.field === name)!.value;
const addr = (d: Delivery, name: string): bigint => d.words.find((w) => w.field === name)!.address;

describe('exception frames (x86_64)', () => {
  it('#PF pushes SS, RSP, RFLAGS, CS, RIP, error code on a 16-byte aligned stack and sets CR2', () => {
    const k = kit({ arch: 'x86_64' });
    const a = k.asm();
    a.label('start').mov(rax, qword(0x1000)).label('after').hlt();
    a.label('pf').hlt();
    k.m.loadCode(a.assemble());
    k.m.setGate(14, { handler: 'pf' });
    k.m.start(0, { rip: 'start', rsp: k.stackTop(0) - 8n });
    k.m.startTrace({ kinds: ['delivery'] });
    k.m.run({ steps: 10 });
    const cpu = k.m.cpus[0]!;
    expect(cpu.cr2).toBe(0x1000n);
    const [d] = deliveries(k.m.trace);
    expect(d!.words.map((w) => w.field)).toEqual(['error code', 'RIP', 'CS', 'RFLAGS', 'RSP', 'SS']);
    expect(field(d!, 'error code')).toBe(0n); // not present, read, supervisor
    expect(field(d!, 'RIP')).toBe(k.m.address('start'));
    expect(field(d!, 'RSP')).toBe(k.stackTop(0) - 8n);
    expect(field(d!, 'CS')).toBe(0x10n);
    expect(addr(d!, 'SS')).toBe(k.stackTop(0) - 16n - 8n); // aligned down to 16, then pushed
    expect(cpu.rsp).toBe(k.stackTop(0) - 16n - 48n);
  });

  it('a missing gate for #UD becomes #DF with error code 0; with no #DF gate the CPU triple-faults and says why', () => {
    const k = kit({ arch: 'x86_64' });
    const a = k.asm();
    a.label('start').ud2();
    a.label('df').hlt();
    k.m.loadCode(a.assemble());
    k.m.setGate(8, { handler: 'df', ist: 1 });
    k.m.cpus[0]!.setTss({ ist: { 1: k.stackTop(1) } });
    k.m.start(0, { rip: 'start', rsp: k.stackTop(0) });
    k.m.startTrace({ kinds: ['delivery', 'death', 'fault'] });
    k.m.run({ steps: 5 });
    const [d] = deliveries(k.m.trace);
    expect(d!.name).toBe('#DF');
    expect(field(d!, 'error code')).toBe(0n);
    expect(k.m.cpus[0]!.status).toBe('halted');

    const t = kit({ arch: 'x86_64' });
    const b = t.asm();
    b.label('start').ud2();
    t.m.loadCode(b.assemble());
    t.m.start(0, { rip: 'start', rsp: t.stackTop(0) });
    t.m.startTrace();
    const r = t.m.run({ steps: 5 });
    expect(r.reason).toBe('idle');
    expect(t.m.cpus[0]!.status).toBe('dead');
    expect(t.m.cpus[0]!.deathReason).toMatch(/triple fault/);
    expect(t.m.trace.some((e) => e.kind === 'death')).toBe(true);
  });

  it('a fault while pushing the frame (stack unmapped) is #DF, delivered on its IST stack', () => {
    const k = kit({ arch: 'x86_64' });
    const a = k.asm();
    a.label('start').int3();
    a.label('bp').hlt();
    a.label('df').hlt();
    k.m.loadCode(a.assemble());
    k.m.setGate(3, { handler: 'bp' });
    k.m.setGate(8, { handler: 'df', ist: 2 });
    k.m.cpus[0]!.setTss({ ist: { 2: k.stackTop(2) } });
    k.m.start(0, { rip: 'start', rsp: 0x5000n });
    k.m.startTrace({ kinds: ['delivery'] });
    k.m.run({ steps: 5 });
    expect(deliveries(k.m.trace).map((d) => d.name)).toEqual(['#DF']);
    expect(k.m.cpus[0]!.rip).toBe(k.m.address('df') + 1n);
  });
});

/** Kernel with an NMI handler that touches a bad address; the #PF handler applies an exception-table style fixup. */
function nestedNmiKernel(arch: 'x86_64' | 'i386') {
  const k = kit({ arch, cpus: 1 });
  const is64 = arch === 'x86_64';
  const a = k.asm();
  const counter = k.layout.data;
  a.label('start').jmp('start');
  if (is64) {
    a.label('nmi').add(qword(counter), imm(1)).mov(rax, qword(0x1000)).label('nmi_after').nop().nop().nop().iretq();
    // #PF: point the saved RIP past the faulting load, drop the error code, iret.
    a.label('pf').push(rax).mov(rax, imm('nmi_after')).mov(qword(rsp, 16), rax).pop(rax).add(rsp, imm(8)).iretq();
  } else {
    a.label('nmi').add(dword(counter), imm(1)).mov(eax, dword(0x1000)).label('nmi_after').nop().nop().nop().iretd();
    a.label('pf').push(eax).mov(eax, imm('nmi_after')).mov(dword(esp, 8), eax).pop(eax).add(esp, imm(4)).iretd();
  }
  k.m.loadCode(a.assemble());
  k.m.setGate(2, { handler: 'nmi', ...(is64 ? { ist: 3 } : {}) });
  k.m.setGate(14, { handler: 'pf' });
  if (is64) k.m.cpus[0]!.setTss({ ist: { 3: k.stackTop(3) } });
  k.m.start(0, { rip: 'start', rsp: k.stackTop(0) });
  k.m.startTrace({ kinds: ['delivery', 'iret', 'nmi'] });
  return k;
}

describe('NMI latch: blocked until any iret, one-deep, then delivered at the next boundary', () => {
  for (const arch of ['x86_64', 'i386'] as const) {
    it(`${arch}: a second NMI waits for the #PF handler's iret inside the NMI handler`, () => {
      const k = nestedNmiKernel(arch);
      const cpu = k.m.cpus[0]!;
      k.m.run({ steps: 3 });
      k.m.injectNmi(0);
      k.m.step(0); // delivery of NMI 1
      expect(cpu.nmiBlocked).toBe(true);
      expect(cpu.rip).toBe(k.m.address('nmi'));
      k.m.injectNmi(0); // latched
      k.m.injectNmi(0); // the latch holds one: dropped
      expect(cpu.nmiCounters).toEqual({ raised: 3, delivered: 1, latched: 1, dropped: 1 });
      k.m.step(0); // add counter
      k.m.step(0); // load faults -> #PF delivered (NMI still blocked: exceptions do not unblock)
      expect(cpu.rip).toBe(k.m.address('pf'));
      expect(cpu.nmiBlocked).toBe(true);
      while (cpu.rip !== k.m.address('nmi_after') && cpu.nmiBlocked) k.m.step(0);
      // The #PF handler's iret unblocked NMIs: the latched one arrives before nmi_after runs.
      expect(cpu.nmiBlocked).toBe(false);
      expect(cpu.nmiPending).toBe(true);
      k.m.step(0);
      expect(cpu.rip).toBe(k.m.address('nmi'));
      expect(cpu.nmiCounters.delivered).toBe(2);
      const nmis = deliveries(k.m.trace).filter((d) => d.name === 'NMI');
      expect(nmis).toHaveLength(2);
      const [first, second] = nmis as [Delivery, Delivery];
      const ripAddr1 = addr(first, arch === 'x86_64' ? 'RIP' : 'EIP');
      const ripAddr2 = addr(second, arch === 'x86_64' ? 'RIP' : 'EIP');
      if (arch === 'x86_64') {
        // Same IST top: the nested frame overwrites the first one, word for word.
        expect(ripAddr2).toBe(ripAddr1);
        expect(field(second, 'RIP')).toBe(k.m.address('nmi_after'));
        expect(k.m.read(ripAddr1, 8)).toBe(k.m.address('nmi_after'));
        const view = k.m.stackView(0, ripAddr1, ripAddr1 + 8n);
        expect(view[0]!.frame).toMatch(/^NMI #2/);
      } else {
        // i386: the nested frame goes on the current stack, below the first.
        expect(ripAddr2 < ripAddr1).toBe(true);
        expect(k.m.read(ripAddr1, 4)).toBe(k.m.address('start'));
      }
    });
  }

  it('without a second NMI nothing is delivered after the iret, and NMIs stay unblocked', () => {
    const k = nestedNmiKernel('x86_64');
    k.m.injectNmi(0);
    k.m.run({ steps: 40 });
    expect(k.m.cpus[0]!.nmiCounters).toEqual({ raised: 1, delivered: 1, latched: 0, dropped: 0 });
    expect(k.m.read(k.layout.data, 8)).toBe(1n);
    expect(k.m.cpus[0]!.nmiBlocked).toBe(false);
  });

  it('NMIs ignore IF; maskable interrupts wait for it', () => {
    const k = kit({ arch: 'x86_64' });
    const a = k.asm();
    a.label('start').nop().nop().nop().sti().label('spin').jmp('spin');
    a.label('irq').add(qword(k.layout.data), imm(1)).iretq();
    a.label('nmi').add(qword(k.layout.data + 8n), imm(1)).iretq();
    k.m.loadCode(a.assemble());
    k.m.setGate(0x30, { handler: 'irq' });
    k.m.setGate(2, { handler: 'nmi' });
    k.m.start(0, { rip: 'start', rsp: k.stackTop(0) });
    k.m.injectIrq(0, 0x30);
    k.m.injectNmi(0);
    k.m.step(0);
    expect(k.m.cpus[0]!.rip).toBe(k.m.address('nmi'));
    k.m.run({ steps: 4 });
    expect(k.m.read(k.layout.data, 8)).toBe(0n);
    k.m.run({ steps: 10 });
    expect(k.m.read(k.layout.data, 8)).toBe(1n);
  });
});

describe('privilege', () => {
  function userKernel() {
    const k = kit({ arch: 'x86_64' });
    const u = 0x400000n;
    k.m.map(u, 0x1000, { user: true });
    const a = k.asm();
    a.label('irq').add(qword(k.layout.data), imm(1)).iretq();
    a.label('gp').hlt();
    a.label('entry').swapgs().mov(qword.gs(0), rsp).mov(rax, imm(42)).swapgs().sysretq();
    k.m.loadCode(a.assemble());
    k.m.setGate(0x30, { handler: 'irq' });
    k.m.setGate(13, { handler: 'gp' });
    k.m.setGate(0x80, { handler: 'irq', dpl: 0 });
    k.m.cpus[0]!.setTss({ sp0: k.stackTop(0) });
    return { k, u };
  }

  it('user code may point RSP anywhere (here into the kernel stack and at garbage); entry switches to RSP0', () => {
    for (const bogus of [0xffffffff83001000n, 0xdead000000000000n]) {
      const { k, u } = userKernel();
      const user = new Assembler({ bitness: 64, origin: u });
      user.label('ustart').movabs(rsp, bogus).label('uspin').jmp('uspin');
      k.m.loadCode(user.assemble());
      k.m.start(0, { rip: 'ustart', rsp: 0n, cpl: 3, interrupts: true });
      k.m.startTrace({ kinds: ['delivery', 'iret'] });
      k.m.run({ steps: 3 });
      k.m.injectIrq(0, 0x30);
      k.m.run({ steps: 4 });
      const [d] = deliveries(k.m.trace);
      expect(d!.fromCpl).toBe(3);
      expect(field(d!, 'RSP')).toBe(bogus);
      expect(field(d!, 'SS')).toBe(0x2bn);
      expect(addr(d!, 'SS')).toBe(k.stackTop(0) - 8n);
      const cpu = k.m.cpus[0]!;
      expect(cpu.cpl).toBe(3);
      expect(cpu.rsp).toBe(bogus);
      expect(k.m.read(k.layout.data, 8)).toBe(1n);
    }
  });

  it('int n through a DPL 0 gate from CPL 3 is #GP with error code vector*8+2; syscall/sysretq round trip with swapgs', () => {
    const { k, u } = userKernel();
    const user = new Assembler({ bitness: 64, origin: u });
    user.label('ustart').syscall().mov(reg.rbx, rax).int(0x80);
    k.m.loadCode(user.assemble());
    const cpu = k.m.cpus[0]!;
    cpu.kernelGsBase = k.layout.data + 0x100n;
    // STAR: sysret base 0x23 (-> CS 0x33, SS 0x2b), syscall CS 0x10; LSTAR = entry; programmed by machine code.
    const m2 = k.asm(0xa000);
    m2.label('boot').mov(reg.ecx, imm(0xc0000081)).xor(eax, eax).mov(reg.edx, imm(0x00230010)).wrmsr()
      .mov(reg.ecx, imm(0xc0000082)).movabs(rax, k.m.address('entry')).mov(reg.rdx, rax).shr(reg.rdx, imm(32)).wrmsr().hlt();
    k.m.loadCode(m2.assemble());
    k.m.start(0, { rip: 'boot', rsp: k.stackTop(0) });
    k.m.run({ steps: 20 });
    k.m.start(0, { rip: 'ustart', rsp: 0x400800n, cpl: 3 });
    k.m.startTrace({ kinds: ['delivery'] });
    k.m.run({ steps: 12 });
    expect(cpu.reg('rbx')).toBe(42n);
    expect(k.m.read(k.layout.data + 0x100n, 8)).toBe(0x400800n);
    const [d] = deliveries(k.m.trace);
    expect(d!.name).toBe('#GP');
    expect(field(d!, 'error code')).toBe(BigInt(0x80 * 8 + 2));
    expect(field(d!, 'CS')).toBe(0x33n);
  });
});

describe('i386 frames', () => {
  it('kernel-mode #BP pushes EFLAGS, CS, EIP on the current stack; from CPL 3 it switches to esp0 and pushes SS:ESP', () => {
    const k = kit({ arch: 'i386' });
    k.m.map(0x08048000n, 0x1000, { user: true });
    const a = k.asm();
    a.label('start').int3().label('after').hlt();
    a.label('bp').iretd();
    k.m.loadCode(a.assemble());
    k.m.setGate(3, { handler: 'bp', dpl: 3 });
    k.m.start(0, { rip: 'start', rsp: k.stackTop(0) });
    k.m.startTrace({ kinds: ['delivery', 'iret'] });
    k.m.run({ steps: 5 });
    const [d] = deliveries(k.m.trace);
    expect(d!.words.map((w) => w.field)).toEqual(['EIP', 'CS', 'EFLAGS']);
    expect(addr(d!, 'EIP')).toBe(k.stackTop(0) - 12n);
    expect(field(d!, 'EIP')).toBe(k.m.address('after'));
    expect(k.m.cpus[0]!.status).toBe('halted');

    const user = new Assembler({ bitness: 32, origin: 0x08048000n });
    user.label('u').int3().label('uspin').jmp('uspin');
    k.m.loadCode(user.assemble());
    k.m.cpus[0]!.setTss({ sp0: k.stackTop(1) });
    k.m.start(0, { rip: 'u', rsp: 0x08048800n, cpl: 3 });
    k.m.startTrace({ kinds: ['delivery', 'iret'] });
    k.m.run({ steps: 4 });
    const [u] = deliveries(k.m.trace);
    expect(u!.words.map((w) => w.field)).toEqual(['EIP', 'CS', 'EFLAGS', 'ESP', 'SS']);
    expect(addr(u!, 'SS')).toBe(k.stackTop(1) - 4n);
    expect(field(u!, 'ESP')).toBe(0x08048800n);
    expect(k.m.cpus[0]!.cpl).toBe(3);
    expect(k.m.cpus[0]!.rsp).toBe(0x08048800n);
  });
});

describe('iret restores IF; hlt wakes on interrupts', () => {
  for (const arch of ['x86_64', 'i386'] as const) {
    it(`${arch}: #BP taken with IF=1 returns with interrupts enabled; a frame with IF=0 returns with them disabled`, () => {
      const k = kit({ arch });
      const is64 = arch === 'x86_64';
      const a = k.asm();
      a.label('start').int3().label('back').nop().hlt();
      if (is64) a.label('bp').iretq();
      else a.label('bp').iretd();
      // A handler that clears IF (bit 9) in the saved flags before returning.
      if (is64) a.label('bp_clear').and(qword(rsp, 16), imm(~0x200)).iretq();
      else a.label('bp_clear').and(dword(esp, 8), imm(~0x200)).iretd();
      k.m.loadCode(a.assemble());
      k.m.setGate(3, { handler: 'bp' });
      k.m.start(0, { rip: 'start', rsp: k.stackTop(0), interrupts: true });
      const cpu = k.m.cpus[0]!;
      k.m.step(0); // int3: the interrupt gate clears IF
      expect(cpu.interruptsEnabled).toBe(false);
      k.m.step(0); // iret pops RFLAGS with IF=1
      expect(cpu.rip).toBe(k.m.address('back'));
      expect(cpu.interruptsEnabled).toBe(true);
      expect(cpu.rflags & 0x200n).toBe(0x200n);

      k.m.setGate(3, { handler: 'bp_clear' });
      k.m.start(0, { rip: 'start', rsp: k.stackTop(0), interrupts: true });
      k.m.run({ steps: 3 });
      expect(cpu.rip).toBe(k.m.address('back'));
      expect(cpu.interruptsEnabled).toBe(false);
    });
  }

  it('a halted CPU wakes for a maskable interrupt only when IF=1, and for an NMI always; then resumes after hlt', () => {
    const k = kit({ arch: 'x86_64' });
    const a = k.asm();
    a.label('start').hlt().label('after').add(qword(k.layout.data + 16n), imm(1)).label('again').hlt();
    a.label('irq').add(qword(k.layout.data), imm(1)).iretq();
    a.label('nmi').add(qword(k.layout.data + 8n), imm(1)).iretq();
    k.m.loadCode(a.assemble());
    k.m.setGate(0x30, { handler: 'irq' });
    k.m.setGate(2, { handler: 'nmi' });
    const cpu = k.m.cpus[0]!;

    k.m.start(0, { rip: 'start', rsp: k.stackTop(0), interrupts: false });
    k.m.step(0);
    expect(cpu.status).toBe('halted');
    k.m.injectIrq(0, 0x30);
    expect(k.m.isRunnable(0)).toBe(false);
    expect(k.m.run({ steps: 10 }).reason).toBe('idle');
    expect(cpu.status).toBe('halted');
    k.m.injectNmi(0);
    k.m.run({ steps: 10 });
    expect(k.m.read(k.layout.data + 8n, 8)).toBe(1n);
    expect(cpu.rip).toBe(k.m.address('again') + 1n); // woke, returned after hlt, counted, halted again
    expect(k.m.read(k.layout.data + 16n, 8)).toBe(1n);
    expect(k.m.read(k.layout.data, 8)).toBe(0n); // the interrupt is still pending (IF=0)

    k.m.start(0, { rip: 'start', rsp: k.stackTop(0), interrupts: true });
    k.m.step(0); // the pending interrupt is delivered before hlt even runs
    expect(cpu.rip).toBe(k.m.address('irq'));
    k.m.run({ steps: 10 });
    expect(k.m.read(k.layout.data, 8)).toBe(1n);
    expect(cpu.status).toBe('halted');
    k.m.injectIrq(0, 0x30);
    k.m.run({ steps: 10 });
    expect(k.m.read(k.layout.data, 8)).toBe(2n);
    expect(k.m.read(k.layout.data + 16n, 8)).toBe(2n);
  });
});

describe('single-step and popf at CPL 3', () => {
  it('TF set by popf traps with #DB after the next instruction, with RIP after it; the handler clears TF', () => {
    const k = kit({ arch: 'x86_64' });
    const a = k.asm();
    a.label('start').pushf().or(qword(rsp), imm(0x100)).popf().label('first').nop().label('second').nop().nop().hlt();
    a.label('db').add(qword(k.layout.data), imm(1)).and(qword(rsp, 16), imm(~0x100)).iretq();
    k.m.loadCode(a.assemble());
    k.m.setGate(1, { handler: 'db' });
    k.m.start(0, { rip: 'start', rsp: k.stackTop(0) });
    k.m.startTrace({ kinds: ['delivery'] });
    k.m.run({ steps: 50 });
    const ds = deliveries(k.m.trace);
    expect(ds.map((d) => d.name)).toEqual(['#DB']);
    expect(field(ds[0]!, 'RIP')).toBe(k.m.address('second'));
    expect(field(ds[0]!, 'RFLAGS') & 0x100n).toBe(0x100n);
    expect(k.m.read(k.layout.data, 8)).toBe(1n);
    expect(k.m.cpus[0]!.status).toBe('halted');
    expect(k.m.cpus[0]!.rflags & 0x100n).toBe(0n);
  });

  it('popf at CPL 3 cannot change IF', () => {
    const k = kit({ arch: 'x86_64' });
    k.m.map(0x400000n, 0x1000, { user: true });
    const user = new Assembler({ bitness: 64, origin: 0x400000n });
    user.label('u').push(imm(0x2)).popf().label('spin').jmp('spin');
    k.m.loadCode(user.assemble());
    k.m.start(0, { rip: 'u', rsp: 0x400800n, cpl: 3, interrupts: true });
    k.m.run({ steps: 4 });
    expect(k.m.cpus[0]!.interruptsEnabled).toBe(true);
  });
});
