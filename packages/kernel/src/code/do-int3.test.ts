import { describe, expect, it } from 'vitest';
import { bootKernel } from '../boot.js';
import { layoutOf } from '../layout.js';
import { bootHarness, minimalEntry, runToHalt } from '../test-support.js';

const ARCHES = ['x86_64', 'i386'] as const;

describe('do_int3: the int3 chain and kprobes', () => {
  for (const arch of ARCHES) {
    it(`${arch}: a kprobe on kthread_work is hit on every call, its pre-handler runs, and the copied instruction resumes the function`, () => {
      const k = bootKernel({ arch, entry: minimalEntry(arch), cpus: [{ program: { kind: 'kernel-probed-loop' } }], kprobes: ['kthread_work'] });
      const m = k.machine;
      expect(m.readBytes(k.symbol('kthread_work'), 1)[0]).toBe(0xcc);
      m.startTrace({ kinds: ['delivery', 'iret'] });
      m.run({ steps: 3000 });
      const hits = Number(k.readPercpu(0, 'kprobeHits'));
      expect(hits).toBeGreaterThan(5);
      const bps = m.trace.filter((e) => e.kind === 'delivery' && e.vector === 3).length;
      const irets = m.trace.filter((e) => e.kind === 'iret').length;
      // One #BP per hit, each ended by an iret (the last one may still be running).
      expect(bps - irets).toBeGreaterThanOrEqual(0);
      expect(bps - irets).toBeLessThanOrEqual(1);
      expect(Math.abs(bps - hits)).toBeLessThanOrEqual(1);
      // Every #BP returned into the out-of-line slot.
      const slot = k.symbol('kprobe_insn_slot_kthread_work');
      for (const e of m.trace) if (e.kind === 'iret') expect(e.words.find((x) => /IP/i.test(x.field))?.value).toBe(slot);
      expect(m.console).toBe('');
      expect(m.isHalted(0)).toBe(false);
    });

    it(`${arch}: a registered int3 handler runs first and may claim a breakpoint no kprobe owns; unclaimed, it is fatal`, () => {
      const L = layoutOf(arch);
      const harness = (claim: boolean) => (ctx: Parameters<Parameters<typeof bootHarness>[1]>[0]): void => {
        const { a, isa } = ctx;
        a.int3();
        a.jmp('test_harness_halt');
        a.label('my_int3_handler');
        a.add(isa.word(isa.abs(L.extraData)), 1);
        a.mov(isa.ax, claim ? 1 : 0);
        a.ret();
      };
      const claimed = bootHarness(arch, harness(true));
      claimed.registerInt3Handler('my_int3_handler');
      expect(runToHalt(claimed)).toBe(true);
      expect(claimed.machine.read(L.extraData, 4)).toBe(1n);
      expect(claimed.machine.console).toBe('');

      const refused = bootHarness(arch, harness(false));
      refused.registerInt3Handler('my_int3_handler');
      expect(runToHalt(refused)).toBe(false);
      expect(refused.machine.read(L.extraData, 4)).toBe(1n);
      expect(refused.machine.console).toContain('BUG: int3 without a kprobe');
    });
  }
});
