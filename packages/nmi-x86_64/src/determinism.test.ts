import { describe, expect, it } from 'vitest';
import { prepareNmiScenario } from '@kernsim/kernel';
import { nestedEntry } from './nested-entry.js';
import { runScenario } from './scenarios.js';

describe('determinism', () => {
  it('the same scenario and seed give the same result, trace and stacks, bit for bit', () => {
    const a = runScenario('kprobe', { entry: 'naive' });
    const b = runScenario('kprobe', { entry: 'naive' });
    expect(b).toEqual(a);
  });

  it('a run from the prepared snapshot equals a fresh boot at the same arrival point, whatever ran before it', () => {
    const fresh = prepareNmiScenario(nestedEntry(), 'watchdog-dump', { small: true }).run(2500);
    const reused = prepareNmiScenario(nestedEntry(), 'watchdog-dump', { small: true });
    reused.run(100);
    reused.run(4000);
    expect(reused.run(2500)).toEqual(fresh);
  });
});
