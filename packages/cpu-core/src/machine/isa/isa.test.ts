import { describe, expect, it } from 'vitest';
import { ISA_ROWS } from '../../testing/isa-rows.js';
import type { IsaRow } from '../../testing/isa-rows.js';
import { kit } from '../../testing/kit.js';
import type { RegName } from '../cpu-view.js';

function run(row: IsaRow) {
  const k = kit({ arch: row.arch });
  k.m.loadCode({ origin: k.layout.text, bytes: Uint8Array.from([...row.bytes, 0xf4]) });
  // Every exception lands on a hlt, so the first fault traced is the one the row raised.
  k.m.loadCode({ origin: k.layout.text + 0x800n, bytes: Uint8Array.of(0xf4) });
  for (let v = 0; v < 32; v++) k.m.setGate(v, { handler: k.layout.text + 0x800n });
  k.m.start(0, { rip: k.layout.text, rsp: k.stackTop(0) });
  const cpu = k.m.cpus[0]!;
  for (const [r, v] of Object.entries(row.regs ?? {})) cpu.setReg(r as RegName, v);
  if (row.flagsIn !== undefined) cpu.rflags = row.flagsIn;
  for (const [addr, size, v] of row.memIn ?? []) k.m.write(addr, size, v);
  k.m.startTrace({ kinds: ['fault'], limit: 1 });
  k.m.run({ steps: 200 });
  const first = k.m.trace[0];
  return { k, cpu, fault: first?.kind === 'fault' ? first.vector : -1 };
}

describe('issue 17 instructions and bugs: each documented effect', () => {
  for (const row of ISA_ROWS) {
    it(`${row.arch}: ${row.name}`, () => {
      const { k, cpu, fault } = run(row);
      expect(fault).toBe(row.fault ?? -1);
      if (row.fault !== undefined) return;
      expect(cpu.status).toBe('halted');
      for (const [r, v] of Object.entries(row.expect ?? {})) expect(cpu.reg(r as RegName), r).toBe(v);
      if (row.set !== undefined) expect(cpu.rflags & row.set).toBe(row.set);
      if (row.clear !== undefined) expect(cpu.rflags & row.clear).toBe(0n);
      for (const [addr, size, v] of row.mem ?? []) expect(k.m.read(addr, size), `memory at ${addr.toString(16)}`).toBe(v);
    });
  }
});
