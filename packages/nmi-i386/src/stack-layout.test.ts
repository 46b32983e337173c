import { describe, expect, it } from 'vitest';
import type { RegName } from '@kernsim/cpu-core';
import { I386_SAVED_WORDS, i386FrameSlotRole, nmiStateName } from './stack-layout.js';
import { runScenario } from './scenarios.js';

const REG: Readonly<Record<string, RegName>> = { ax: 'eax', bx: 'ebx', cx: 'ecx', dx: 'edx', si: 'esi', bp: 'ebp', orig_ax: 'eax' };

describe('the i386 NMI frame layout', () => {
  it('names the words the entry pushed: at do_nmi the saved registers hold what the NMI interrupted', () => {
    const checked: string[] = [];
    runScenario('watchdog-dump', {
      probe: (k, cpu) => {
        const m = k.machine;
        const c = m.cpus[cpu]!;
        if (checked.length > 0 || c.rip !== k.symbol('do_nmi')) return undefined;
        const delivery = m.trace.findLast((e) => e.kind === 'delivery' && e.cpu === cpu && e.name === 'NMI');
        if (delivery?.kind !== 'delivery') throw new Error('no NMI delivery traced before do_nmi');
        const eip = delivery.words.find((w) => w.field === 'EIP')!;
        const fromUser = delivery.fromCpl === 3;
        for (const w of delivery.words.filter((x) => x.field !== 'error code')) {
          expect(i386FrameSlotRole(Number(w.address - eip.address) / 4, fromUser)).toEqual({ region: 'hardware frame', field: w.field });
        }
        // Between the entry and do_nmi only edi (the pt_regs pointer) and esp changed.
        for (let i = 1; i <= I386_SAVED_WORDS; i++) {
          const role = i386FrameSlotRole(-i, fromUser)!;
          expect(role.region).toBe('pt_regs');
          const reg = REG[role.field];
          if (reg !== undefined) expect(m.read(eip.address - BigInt(4 * i), 4)).toBe(c.reg(reg));
          checked.push(role.field);
        }
        // Below pt_regs: the return address `call do_nmi` pushed, outside the frame.
        expect(i386FrameSlotRole(-I386_SAVED_WORDS - 1, fromUser)).toBeUndefined();
        expect(c.reg('esp')).toBe(eip.address - BigInt(4 * (I386_SAVED_WORDS + 1)));
        return undefined;
      },
    });
    expect(checked).toEqual(['orig_ax', 'gs', 'fs', 'es', 'ds', 'ax', 'bp', 'di', 'si', 'dx', 'cx', 'bx']);
  });

  it('names the latch states as nmi.c does', () => {
    expect([0n, 1n, 2n].map(nmiStateName)).toEqual(['NMI_NOT_RUNNING', 'NMI_EXECUTING', 'NMI_LATCHED']);
  });
});
