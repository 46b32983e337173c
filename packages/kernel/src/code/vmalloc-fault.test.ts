import { describe, expect, it } from 'vitest';
import { imm } from '@kernsim/cpu-core';
import { bootKernel } from '../boot.js';
import { layoutOf } from '../layout.js';
import { minimalEntry } from '../test-support.js';

const ARCHES = ['x86_64', 'i386'] as const;

describe('vmalloc_fault: lazy sync of vmalloc mappings, by machine code', () => {
  for (const arch of ARCHES) {
    const w = arch === 'x86_64' ? 8 : 4;
    const top = (v: bigint): bigint => (arch === 'x86_64' ? (v >> 39n) & 511n : v >> 22n);
    it(`${arch}: the first touch from a task lacking the mapping faults once, copies the reference entry, and the store lands`, () => {
      const k = bootKernel({
        arch,
        entry: minimalEntry(arch),
        cpus: [{ program: { kind: 'user-syscalls' }, bufferSynced: false }],
        extraCode: (ctx) => {
          const { a, isa } = ctx;
          // Two stores into the vmalloc'd buffer, then stop.
          a.label('touch_vmalloc');
          a.mov(isa.di, isa.word(isa.percpu(16 * w)));
          a.mov(isa.word(isa.di), 0x77);
          a.mov(isa.word(isa.di, w), 0x78);
          a.label('touch_vmalloc_halt');
          a.hlt();
          a.jmp('touch_vmalloc_halt');
        },
      });
      const m = k.machine;
      const space = k.tasks[0]!.space;
      const slot = top(k.perfBuffer(0));
      expect(m.read(space.pgd + slot * BigInt(w), w)).toBe(0n);
      m.run({ steps: 200 });
      // Kernel mode on the task's page table, inside a system call (x86_64: after swapgs and the stack switch).
      const inKernel = arch === 'x86_64' ? k.symbol('system_call_after_stack_switch') : k.symbol('system_call');
      m.run({ steps: 400, until: () => m.cpus[0]!.rip === inKernel });
      expect(m.cpus[0]!.rip).toBe(inKernel);
      m.cpus[0]!.rip = k.symbol('touch_vmalloc');
      m.startTrace({ kinds: ['delivery'] });
      m.run({ steps: 2000, until: () => m.isHalted(0) });
      const faults = m.trace.filter((e) => e.kind === 'delivery' && e.vector === 14);
      expect(faults).toHaveLength(1);
      expect(m.read(space.pgd + slot * BigInt(w), w)).toBe(m.read(m.kernelSpace.pgd + slot * BigInt(w), w));
      expect(m.read(k.perfBuffer(0), w)).toBe(0x77n);
      expect(m.read(k.perfBuffer(0) + BigInt(w), w)).toBe(0x78n);
      expect(m.console).toBe('');
    });

    it(`${arch}: a vmalloc-range address the reference table lacks is not synced: it oopses`, () => {
      const L = layoutOf(arch);
      const hole = arch === 'x86_64' ? L.vmalloc + 0x8000000000n : L.vmalloc + 0x01000000n;
      const k = bootKernel({
        arch,
        entry: minimalEntry(arch),
        cpus: [{ program: { kind: 'kernel-loop' } }],
        extraCode: (ctx) => {
          const { a, isa } = ctx;
          a.label('touch_hole');
          if (arch === 'x86_64') a.movabs(isa.di, hole);
          else a.mov(isa.di, imm(isa.abs(hole)));
          a.mov(isa.ax, isa.word(isa.di));
          a.hlt();
        },
      });
      k.machine.run({ steps: 40 });
      k.machine.cpus[0]!.rip = k.symbol('touch_hole');
      k.machine.run({ steps: 5000, until: (m) => m.isHalted(0) });
      expect(k.machine.console).toContain(`unable to handle kernel paging request at ${hole.toString(16).padStart(w * 2, '0')}`);
    });
  }
});
