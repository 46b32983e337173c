import { describe, expect, it } from 'vitest';
import { nmiAccountingErrors } from './nmi-accounting.js';
import type { CpuNmiAccount } from './scenario-types.js';

const account = (over: Partial<CpuNmiAccount>): CpuNmiAccount => ({
  cpu: 0,
  raised: 4,
  delivered: 3,
  mergedByHardware: 1,
  mergedBySoftware: 2,
  lost: 0,
  repeats: 1,
  handled: 2,
  unknown: 0,
  pending: 0,
  accountedFor: true,
  ...over,
});

describe('nmiAccountingErrors', () => {
  it('holds for a consistent account: one first run, two merged NMIs served by one repeat, one dropped at the latch', () => {
    expect(nmiAccountingErrors({ nmis: { perCpu: [account({})] } })).toEqual([]);
  });

  it('reports a handler run no delivery or repeat explains', () => {
    expect(nmiAccountingErrors({ nmis: { perCpu: [account({ handled: 3 })] } })).toEqual([
      'CPU 0: 3 handler runs, but delivered - merged by the entry - lost + repeats = 3 - 2 - 0 + 1 = 2',
    ]);
  });

  it('reports a raised NMI the hardware neither delivered, dropped nor keeps pending', () => {
    expect(nmiAccountingErrors({ nmis: { perCpu: [account({ raised: 5 })] } })).toHaveLength(1);
  });

  it('a lost NMI is no handler run: the kernel side balances with it, the run is still not accounted for', () => {
    const lost = account({ raised: 1, delivered: 1, mergedByHardware: 0, mergedBySoftware: 0, repeats: 0, lost: 1, handled: 0, accountedFor: false });
    expect(nmiAccountingErrors({ nmis: { perCpu: [lost] } })).toEqual([]);
  });
});
