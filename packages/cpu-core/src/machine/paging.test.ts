import { describe, expect, it } from 'vitest';
import { imm, qword, dword, reg } from '../asm/operands.js';
import { kit } from '../testing/kit.js';

const { rax, rcx, rdx, rsi, rdi, eax, ecx, edx, esi, edi } = reg;

describe('vmalloc lazy sync: a task table gets a vmalloc mapping on first touch, from a machine-code #PF handler', () => {
  for (const arch of ['x86_64', 'i386'] as const) {
    it(arch, () => {
      const is64 = arch === 'x86_64';
      const k = kit({ arch });
      const m = k.m;
      const task = m.createAddressSpace(); // created before the vmalloc area exists
      const vmalloc = is64 ? 0xffffc90000000000n : 0xf0000000n;
      m.map(vmalloc, 0x1000); // reference table only: a fresh pgd slot
      m.write(vmalloc + 8n, 4, 0x1234n);
      expect(m.translate(vmalloc)).toBeDefined();
      expect(m.translate(vmalloc, task)).toBeUndefined();
      const a = k.asm();
      const refPgd = m.kernelSpace.pgd;
      if (is64) {
        a.label('start').movabs(rsi, vmalloc).mov(eax, dword(rsi, 8)).mov(rcx, rax).hlt();
        a.label('pf').push(rax).push(rdx).push(rsi).push(rdi);
        a.mov(rax, reg.cr2).shr(rax, imm(39)).and(eax, imm(511));
        a.mov(rdi, reg.cr3).movabs(rsi, 0xffff880000000000n).add(rdi, rsi); // __va(cr3): current pgd
        a.movabs(rsi, refPgd); // init_mm's pgd
        a.mov(rdx, qword(rsi, rax, 8, 0)).test(rdx, rdx).jz('.bad');
        a.mov(qword(rdi, rax, 8, 0), rdx);
        a.pop(rdi).pop(rsi).pop(rdx).pop(rax).add(reg.rsp, imm(8)).iretq();
        a.label('.bad').hlt();
      } else {
        a.label('start').mov(eax, dword(Number(vmalloc + 8n))).mov(ecx, eax).hlt();
        a.label('pf').push(eax).push(edx).push(esi).push(edi);
        a.mov(eax, reg.cr2).shr(eax, imm(22));
        a.mov(edi, reg.cr3).add(edi, imm(0xc0000000)); // __va(cr3)
        a.mov(esi, imm(Number(refPgd)));
        a.mov(edx, dword(esi, eax, 4, 0)).test(edx, edx).jz('.bad');
        a.mov(dword(edi, eax, 4, 0), edx);
        a.pop(edi).pop(esi).pop(edx).pop(eax).add(reg.esp, imm(4)).iretd();
        a.label('.bad').hlt();
      }
      // Kernel text/data/stacks live in slots the task copied at creation.
      m.loadCode(a.assemble());
      m.setGate(14, { handler: 'pf' });
      m.start(0, { rip: 'start', rsp: k.stackTop(0), space: task });
      m.startTrace({ kinds: ['delivery', 'fault'] });
      m.run({ steps: 100 });
      const cpu = m.cpus[0]!;
      expect(cpu.reg('rcx')).toBe(0x1234n);
      const pfs = m.trace.filter((e) => e.kind === 'delivery' && e.name === '#PF');
      expect(pfs).toHaveLength(1); // the copied entry makes the retry succeed
      expect(cpu.cr2).toBe(vmalloc + 8n);
      expect(m.translate(vmalloc, task)).toBe(m.translate(vmalloc));
    });
  }

  it('user accesses to supervisor pages and writes to read-only pages fault with the SDM error code bits', () => {
    const k = kit({ arch: 'x86_64' });
    k.m.map(0x400000n, 0x1000, { user: true });
    k.m.map(0xffffffff84000000n, 0x1000, { writable: false });
    const a = k.asm();
    a.label('start').mov(qword(0xffffffff84000000n), rax).hlt();
    a.label('pf').hlt();
    k.m.loadCode(a.assemble());
    k.m.setGate(14, { handler: 'pf' });
    k.m.start(0, { rip: 'start', rsp: k.stackTop(0) });
    k.m.startTrace({ kinds: ['delivery'] });
    k.m.run({ steps: 5 });
    const d = k.m.trace[0];
    expect(d?.kind === 'delivery' && d.errorCode).toBe(0b011); // present, write, supervisor
  });

  it('a call into another code page fetches through the TLB, and an unmapped page faults there as a fetch', () => {
    // Each call and return switches code pages, so fetches find the other page in the TLB
    // rather than walking; after the page is unmapped the next call must fault, not run a stale entry.
    const k = kit({ arch: 'x86_64' });
    const a = k.asm();
    a.label('start').mov(rcx, imm(0)).label('.loop').call('far').add(rcx, imm(1)).jmp('.loop');
    a.label('pf').hlt();
    a.align(4096).label('far').add(rax, imm(1)).ret();
    const code = a.assemble();
    const far = code.symbols.get('far')!;
    k.m.loadCode(code);
    k.m.setGate(14, { handler: 'pf' });
    k.m.start(0, { rip: 'start', rsp: k.stackTop(0) });
    k.m.run({ steps: 200 });
    const cpu = k.m.cpus[0]!;
    expect(cpu.reg('rax')).toBeGreaterThan(30n);
    k.m.unmap(far, 0x1000);
    k.m.startTrace({ kinds: ['delivery'] });
    k.m.run({ steps: 10 });
    const d = k.m.trace.find((e) => e.kind === 'delivery');
    expect(d?.kind === 'delivery' && [d.name, d.errorCode]).toEqual(['#PF', 0b10000]); // not present, supervisor, instruction fetch
    expect(cpu.cr2).toBe(far);
  });
});
