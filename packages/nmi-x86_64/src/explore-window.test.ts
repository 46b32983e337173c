import { describe, expect, it } from 'vitest';
import { exploreNmiWindow } from './explore-window.js';

describe('cpu-core\'s explorer on the window after an exception\'s iret inside an NMI', () => {
  it('finds a shortest failing schedule under the naive entry: one injected NMI', () => {
    const r = exploreNmiWindow('naive');
    expect(r.ok).toBe(false);
    expect(r.counterexample?.violation).toMatch(/frame the first NMI will return through/);
    const schedule = r.counterexample?.schedule ?? [];
    expect(schedule.filter((c) => c.kind === 'nmi')).toHaveLength(1);
    expect(schedule).toEqual([{ kind: 'nmi', cpu: 0 }, { kind: 'step', cpu: 0 }]);
  });

  it('finds none under the 3.3 entry: every schedule of 32 choices with up to two NMIs, exhaustively', () => {
    const r = exploreNmiWindow('nested', { maxDepth: 32, nmiBudget: 2, maxStates: 200_000 });
    expect(r.ok).toBe(true);
    expect(r.counterexample).toBeUndefined();
    expect(r.exhaustive).toBe(true);
    expect(r.statesVisited).toBeGreaterThan(1000);
  });
});
