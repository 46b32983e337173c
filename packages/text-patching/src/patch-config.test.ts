import { describe, expect, it } from 'vitest';
import { TextPatchingError } from './errors.js';
import { resolvePatchConfig } from './patch-config.js';
import type { PatchConfig } from './patch-config.js';

function refused(config: PatchConfig): string | undefined {
  try {
    resolvePatchConfig(config);
  } catch (error) {
    return error instanceof TextPatchingError ? error.code : `not a TextPatchingError: ${String(error)}`;
  }
  return undefined;
}

describe('resolvePatchConfig', () => {
  it('takes whole counts from 0 for iterations and cycles', () => {
    expect(refused({ method: 'breakpoint', startAfter: 0, settle: 0, irqOff: { cpu: 1, cycles: 0 }, nmi: { cpu: 1, afterCycles: 0 } })).toBeUndefined();
  });

  it('refuses counts that are negative, fractions or not numbers with the typed error', () => {
    // A NaN or a fraction reached BigInt as a RangeError; startAfter -1 ran the whole step budget.
    for (const n of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(refused({ method: 'breakpoint', startAfter: n })).toBe('KERNSIM_PATCH_BAD_OPTIONS');
      expect(refused({ method: 'breakpoint', settle: n })).toBe('KERNSIM_PATCH_BAD_OPTIONS');
      expect(refused({ method: 'breakpoint', maxSteps: n })).toBe('KERNSIM_PATCH_BAD_OPTIONS');
      expect(refused({ method: 'breakpoint', irqOff: { cpu: 1, cycles: n } })).toBe('KERNSIM_PATCH_BAD_OPTIONS');
      expect(refused({ method: 'breakpoint', nmi: { cpu: 1, afterCycles: n } })).toBe('KERNSIM_PATCH_BAD_OPTIONS');
    }
    expect(refused({ method: 'breakpoint', maxSteps: 0 })).toBe('KERNSIM_PATCH_BAD_OPTIONS');
    expect(refused({ method: 'breakpoint', irqOff: { cpu: 1.5, cycles: 10 } })).toBe('KERNSIM_PATCH_BAD_OPTIONS');
    expect(refused({ method: 'breakpoint', nmi: { cpu: 0.5, afterCycles: 10 } })).toBe('KERNSIM_PATCH_BAD_OPTIONS');
  });
});
