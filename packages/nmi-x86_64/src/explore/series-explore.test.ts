import { describe, expect, it } from 'vitest';
import { runSeriesCase } from '../series.js';
import type { SeriesPart } from '../series.js';
import { exploreNmi } from './explore-nmi.js';
import { NMI_INVARIANTS } from './nmi-monitor.js';
import type { StartId } from './starts.js';

/**
 * The hand-picked situations of series.ts, matched by the explorer: with a part left out, the
 * explorer (one NMI beyond the start's own, no arrival point or symbol given) reports a
 * violation of the invariant that describes the situation's crash. The parts whose situation
 * needs two more NMIs (repeatGuard, rearmInRepeat) are matched by the benchmark's full budget.
 * That 3.3 with every part holds on these start states is tested in explore-nmi.test.ts.
 */
const CASES: readonly { part: SeriesPart; start: StartId; crash: RegExp; invariant: string }[] = [
  { part: 'executingVariable', start: 'nmi-kprobe', crash: /corrupted return/, invariant: NMI_INVARIANTS.notNested },
  { part: 'stackCheck', start: 'nmi-perf', crash: /corrupted return/, invariant: NMI_INVARIANTS.returnFrame },
  { part: 'restoreCopiedFrame', start: 'nmi-perf', crash: /stuck/, invariant: NMI_INVARIANTS.once },
  { part: 'debugStackFix', start: 'breakpoint', crash: /debug IST stack/, invariant: NMI_INVARIANTS.returnFrame },
];

describe('the series situations, found by the explorer without being told', () => {
  for (const c of CASES) {
    it(`${c.part} left out: the situation crashes and the explorer reports ${c.invariant}`, async () => {
      expect(runSeriesCase(c.part, { without: true }).crashReason).toMatch(c.crash);
      const r = await exploreNmi({ entry: 'nested', without: c.part, starts: [c.start], nmis: 1 });
      expect(r.violations.map((v) => v.invariant)).toContain(c.invariant);
    }, 40_000);
  }
});
