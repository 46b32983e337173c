import { describe, expect, it } from 'vitest';
import { imm, qword, reg } from '../asm/operands.js';
import { kit } from '../testing/kit.js';
import { PORT } from './arch.js';
import type { TraceEvent } from './trace.js';

const { rax, rdx, al } = reg;

/** Two CPUs: CPU 0 writes a watched word and prints a byte; CPU 1 takes an NMI and returns. */
function machine() {
  const k = kit({ arch: 'x86_64', cpus: 2, serial: { cyclesPerByte: 1 } });
  const a = k.asm();
  a.label('writer').mov(rax, imm(0x55)).mov(qword(k.layout.data), rax).mov(rdx, imm(PORT.SERIAL)).mov(al, imm(0x4b)).out(reg.dx, al).hlt();
  a.label('spinner').jmp('spinner');
  a.label('nmi_handler').nop().iretq();
  k.m.loadCode(a.assemble());
  k.m.setGate(2, { handler: 'nmi_handler', ist: 3 });
  k.m.cpus[1]!.setTss({ ist: { 3: k.stackTop(5) } });
  k.m.watch(k.layout.data, 8, 'counter');
  k.m.start(0, { rip: 'writer', rsp: k.stackTop(0) });
  k.m.start(1, { rip: 'spinner', rsp: k.stackTop(1) });
  return k;
}

describe('the trace', () => {
  it('records instructions with bytes, GNU text and symbol; writes to watched ranges; console output; NMIs, deliveries and irets', () => {
    const k = machine();
    k.m.startTrace();
    k.m.run({ steps: 4 });
    k.m.injectNmi(1);
    k.m.run({ steps: 12 });
    const t = k.m.trace;
    const first = t.find((e) => e.kind === 'instruction' && e.cpu === 0)!;
    expect(first).toMatchObject({ kind: 'instruction', address: k.m.address('writer'), symbol: 'writer', text: 'mov $0x55,%rax' });
    expect(t.find((e) => e.kind === 'write')).toMatchObject({ cpu: 0, label: 'counter', size: 8, value: 0x55n });
    expect(t.find((e) => e.kind === 'console')).toMatchObject({ cpu: 0, text: 'K' });
    expect(t.find((e) => e.kind === 'nmi')).toMatchObject({ cpu: 1, what: 'raised', source: 'external' });
    const d = t.find((e): e is Extract<TraceEvent, { kind: 'delivery' }> => e.kind === 'delivery')!;
    expect(d).toMatchObject({ cpu: 1, name: 'NMI', ist: 3, cause: 'nmi', handler: k.m.address('nmi_handler') });
    expect(d.words.map((w) => w.field)).toEqual(['RIP', 'CS', 'RFLAGS', 'RSP', 'SS']);
    const r = t.find((e): e is Extract<TraceEvent, { kind: 'iret' }> => e.kind === 'iret')!;
    expect(r.words.map((w) => [w.field, w.address, w.value])).toEqual(d.words.map((w) => [w.field, w.address, w.value]));
    // One readable line per event, naming the symbol.
    const lines = k.m.formatTrace().split('\n');
    expect(lines).toHaveLength(t.length);
    expect(lines.some((l) => l.includes('<writer>') && l.includes('mov $0x55,%rax'))).toBe(true);
    expect(lines.some((l) => l.includes('deliver NMI') && l.includes('IST3'))).toBe(true);
  });

  it('filters by kind and CPU, and keeps only the newest events under a limit', () => {
    const k = machine();
    k.m.startTrace({ kinds: ['instruction'], cpus: [1], limit: 3 });
    k.m.run({ steps: 20 });
    expect(k.m.trace).toHaveLength(3);
    expect(k.m.trace.every((e) => e.kind === 'instruction' && e.cpu === 1)).toBe(true);
    const seqs = k.m.trace.map((e) => e.seq);
    expect(seqs[2]! - seqs[0]!).toBe(2);
    expect(seqs[0]).toBeGreaterThan(0);
    k.m.stopTrace();
    k.m.run({ steps: 10 });
    expect(k.m.trace.map((e) => e.seq)).toEqual(seqs);
  });

  it('the stack view labels each word of a delivered frame and notices words overwritten since', () => {
    const k = machine();
    k.m.startTrace({ kinds: ['delivery'] });
    k.m.run({ steps: 2 });
    k.m.injectNmi(1);
    k.m.step(1); // delivery
    const top = k.stackTop(5);
    let view = k.m.stackView(1, top - 40n, top);
    expect(view.map((w) => w.field)).toEqual(['RIP', 'CS', 'RFLAGS', 'RSP', 'SS']);
    expect(view.every((w) => w.frame?.startsWith('NMI #1') === true && !w.overwritten)).toBe(true);
    expect(view[0]!.value).toBe(k.m.address('spinner'));
    k.m.write(top - 40n, 8, 0xdeadn); // something scribbles over the saved RIP
    view = k.m.stackView(1, top - 40n, top);
    expect(view[0]).toMatchObject({ field: 'RIP', overwritten: true, value: 0xdeadn });
  });
});
