import { describe, expect, it } from 'vitest';
import { layoutOf } from '../layout.js';
import { bootKernel } from '../boot.js';
import type { Kernel } from '../boot.js';
import { minimalEntry } from '../test-support.js';

const ARCHES = ['x86_64', 'i386'] as const;

/** Boots one kernel-loop CPU with two extra handlers in the text: one claims an event, one claims nothing. */
function boot(arch: 'x86_64' | 'i386'): Kernel {
  const L = layoutOf(arch);
  return bootKernel({
    arch,
    entry: minimalEntry(arch),
    cpus: [{ program: { kind: 'kernel-loop' } }],
    extraCode: (ctx) => {
      const { a, isa } = ctx;
      a.label('claims_one');
      a.add(isa.word(isa.abs(L.extraData)), 1);
      a.mov(isa.ax, 1);
      a.ret();
      a.label('claims_none');
      a.add(isa.word(isa.abs(L.extraData + 8n)), 1);
      a.xor(isa.eax, isa.eax);
      a.ret();
    },
  });
}

function nmi(k: Kernel, source?: 'watchdog' | 'sampler'): void {
  k.machine.run({ steps: 30 });
  if (source) k.raisePmuNmi(0, source);
  else k.machine.injectNmi(0);
  k.machine.run({ steps: 3000 });
}

describe('do_nmi and nmi_handle: the handler chain', () => {
  for (const arch of ARCHES) {
    const L = layoutOf(arch);
    it(`${arch}: an NMI no handler claims is counted as unknown`, () => {
      const k = boot(arch);
      nmi(k);
      expect(k.readPercpu(0, 'nmiCount')).toBe(1n);
      expect(k.readPercpu(0, 'nmiNormal')).toBe(0n);
      expect(k.readPercpu(0, 'nmiUnknown')).toBe(1n);
    });

    it(`${arch}: a PMU NMI is claimed by perf_event_nmi_handler (NMI_LOCAL) and is not unknown`, () => {
      const k = boot(arch);
      nmi(k, 'sampler');
      expect(k.readPercpu(0, 'nmiNormal')).toBe(1n);
      expect(k.readPercpu(0, 'nmiUnknown')).toBe(0n);
      expect(k.readPercpu(0, 'perfSamples')).toBe(1n);
      expect(k.readPercpu(0, 'pmuStatus')).toBe(0n);
    });

    it(`${arch}: every NMI_LOCAL handler runs and their counts add up; NMI_UNKNOWN handlers run only when no NMI_LOCAL handler claimed it`, () => {
      const k = boot(arch);
      k.registerNmiHandler('local', 'claims_none');
      k.registerNmiHandler('local', 'claims_one');
      nmi(k, 'sampler');
      expect(k.readPercpu(0, 'nmiNormal')).toBe(2n);
      expect(k.machine.read(L.extraData, 4)).toBe(1n);
      expect(k.machine.read(L.extraData + 8n, 4)).toBe(1n);

      const u = boot(arch);
      u.registerNmiHandler('unknown', 'claims_one');
      nmi(u, 'sampler');
      expect(u.machine.read(L.extraData, 4)).toBe(0n);
      nmi(u);
      expect(u.machine.read(L.extraData, 4)).toBe(1n);
      // As 3.3's unknown_nmi_error: what the NMI_UNKNOWN handlers claim still counts in nmi_stats.unknown.
      expect(u.readPercpu(0, 'nmiUnknown')).toBe(1n);
      expect(u.readPercpu(0, 'nmiNormal')).toBe(1n);
      expect(u.readPercpu(0, 'nmiCount')).toBe(2n);
    });
  }
});
