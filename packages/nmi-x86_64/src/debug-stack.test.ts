import { describe, expect, it } from 'vitest';
import { runScenario } from './scenarios.js';

describe('the debug-stack part of the 3.3 series', () => {
  it('without it, a breakpoint in an NMI handler that interrupted a #BP handler restarts the debug stack on top of that handler\'s frame', () => {
    const r = runScenario('debug-stack', { entry: 'nested', withoutDebugStackFix: true });
    expect(r.crashed).toBe(true);
    expect(r.crashReason).toMatch(/debug IST stack/);
    expect(r.events.some((e) => e.kind === 'overwrite' && e.text.includes('#BP'))).toBe(true);
    // The NMI itself was fine: the 3.3 entry handled it.
    expect(r.nmis.handled).toBe(1);
  });
});
