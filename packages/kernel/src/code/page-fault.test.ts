import { describe, expect, it } from 'vitest';
import { imm } from '@kernsim/cpu-core';
import type { BuildContext } from '../build-context.js';
import { layoutOf } from '../layout.js';
import { bootHarness, runToHalt } from '../test-support.js';
import { EFAULT } from './show-state.js';

const ARCHES = ['x86_64', 'i386'] as const;

/** careful_read(di = address, si = extraData + 8); result word at extraData. */
function carefulRead(address: bigint) {
  return (ctx: BuildContext): void => {
    const { a, isa } = ctx;
    a.mov(isa.di, imm(isa.abs(address)));
    a.mov(isa.si, imm(isa.abs(ctx.layout.extraData + 8n)));
    a.call('careful_read');
    a.mov(isa.word(isa.abs(ctx.layout.extraData)), isa.ax);
  };
}

describe('do_page_fault: exception-table fixups', () => {
  for (const arch of ARCHES) {
    const L = layoutOf(arch);
    const w = arch === 'x86_64' ? 8 : 4;
    it(`${arch}: a careful read of unmapped memory faults, resumes at its fixup and returns -EFAULT`, () => {
      const k = bootHarness(arch, carefulRead(L.unmapped + 0x40n));
      k.machine.startTrace({ kinds: ['delivery', 'iret'] });
      expect(runToHalt(k)).toBe(true);
      expect(BigInt.asIntN(w * 8, k.machine.read(L.extraData, w))).toBe(BigInt(EFAULT));
      const pf = k.machine.trace.find((e) => e.kind === 'delivery' && e.vector === 14);
      expect(pf).toBeDefined();
      expect(k.machine.cpus[0]!.cr2).toBe(L.unmapped + 0x40n);
      // The #PF handler returned with iret, to the fixup, not to the faulting load.
      const iret = k.machine.trace.find((e) => e.kind === 'iret');
      expect(iret?.kind === 'iret' && k.symbols.symbolize(iret.words.find((x) => /IP/i.test(x.field))!.value)).toBe('careful_read_fixup');
      expect(k.machine.console).toBe('');
    });

    it(`${arch}: a careful read of mapped memory copies the word and returns 0, without a fault`, () => {
      const k = bootHarness(arch, carefulRead(k0Data(arch)));
      k.machine.write(k0Data(arch), w, 0x1234n);
      k.machine.startTrace({ kinds: ['delivery'] });
      expect(runToHalt(k)).toBe(true);
      expect(k.machine.read(L.extraData, w)).toBe(0n);
      expect(k.machine.read(L.extraData + 8n, w)).toBe(0x1234n);
      expect(k.machine.trace).toHaveLength(0);
    });

    it(`${arch}: a fault at an instruction outside the exception table is an oops`, () => {
      const k = bootHarness(arch, (ctx) => {
        const { a, isa } = ctx;
        a.mov(isa.ax, isa.word(isa.abs(L.unmapped)));
      });
      expect(runToHalt(k)).toBe(false);
      expect(k.machine.isHalted(0)).toBe(true);
      expect(k.machine.console).toContain(`BUG: unable to handle kernel paging request at ${L.unmapped.toString(16).padStart(w * 2, '0')}`);
      expect(k.machine.cpus[0]!.rip - k.symbol('panic_halt')).toBeLessThan(4n);
    });
  }
});

function k0Data(arch: 'x86_64' | 'i386'): bigint {
  return layoutOf(arch).extraData + 0x100n;
}
