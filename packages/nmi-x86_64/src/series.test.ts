import { nmiAccountingErrors } from '@kernsim/kernel';
import { describe, expect, it } from 'vitest';
import { runSeriesCase, SERIES_CASES } from './series.js';
import type { SeriesPart } from './series.js';
import { NmiX86Error } from './errors.js';

const landmarks = (r: ReturnType<typeof runSeriesCase>): string[] => r.events.filter((e) => e.kind === 'landmark').map((e) => e.text);

/** How each part's absence shows. */
const WITHOUT: Readonly<Record<SeriesPart, RegExp>> = {
  executingVariable: /corrupted return/,
  stackCheck: /corrupted return/,
  repeatGuard: /corrupted return|general protection|CPU 0 died/,
  rearmInRepeat: /corrupted return/,
  restoreCopiedFrame: /stuck/,
  debugStackFix: /debug IST stack/,
};

describe('each part of the 3.3 series, with and without it', () => {
  for (const c of SERIES_CASES) {
    it(`${c.part}: with it the situation completes, every NMI accounted for`, () => {
      const r = runSeriesCase(c.part);
      expect(r.crashed, r.crashReason).toBe(false);
      expect(r.accountedFor).toBe(true);
      expect(nmiAccountingErrors(r)).toEqual([]);
      expect(r.deepestHandlerNesting).toBe(1);
    });
    it(`${c.part}: without it the same situation fails`, () => {
      const r = runSeriesCase(c.part, { without: true });
      expect(r.crashed).toBe(true);
      expect(r.crashReason).toMatch(WITHOUT[c.part]);
    });
  }

  it('the situations reach the code each part guards', () => {
    expect(landmarks(runSeriesCase('executingVariable'))).toContain('nested_nmi');
    const exit = landmarks(runSeriesCase('stackCheck'));
    expect(exit.indexOf('nested_nmi')).toBeGreaterThan(exit.indexOf('nmi_restore'));
    const rep = landmarks(runSeriesCase('repeatGuard'));
    expect(rep.slice(rep.indexOf('repeat_nmi'))).toContain('nested_nmi_out');
    expect(landmarks(runSeriesCase('rearmInRepeat')).filter((m) => m === 'repeat_nmi').length).toBe(2);
    // Without the third copy the repeated handler returns into repeat_nmi again and again.
    expect(runSeriesCase('restoreCopiedFrame', { without: true }).nmis.handled).toBeGreaterThan(10);
  });

  it('rejects an unknown part with a typed error', () => {
    expect(() => runSeriesCase('nope' as SeriesPart)).toThrow(NmiX86Error);
  });
});
