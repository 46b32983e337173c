import { describe, expect, it } from 'vitest';
import { NmiTracker } from './nmi-tracker.js';

describe('NmiTracker', () => {
  it('sees a nested NMI overwrite the first frame and the first return go astray', () => {
    const t = new NmiTracker([0], []);
    t.delivered({ cpu: 0, step: 1, frame: 0x1000n, rip: 0xaaan, rsp: 0x5000n, cs: 0x10 });
    t.delivered({ cpu: 0, step: 2, frame: 0x1000n, rip: 0xbbbn, rsp: 0x0f00n, cs: 0x10 });
    expect(t.overwrites).toHaveLength(1);
    expect(t.deepest).toBe(2);
    expect(t.iret({ cpu: 0, step: 3, frame: 0x1000n, rip: 0xbbbn, rsp: 0x0f00n, cs: 0x10 })).toBeUndefined();
    const bad = t.iret({ cpu: 0, step: 4, frame: 0x1000n, rip: 0xbbbn, rsp: 0x0f00n, cs: 0x10 });
    expect(bad?.nmi.rip).toBe(0xaaan);
    expect(bad?.overwrittenBy).toEqual([2]);
  });

  it('accepts a return through a trampoline and then the real one', () => {
    const t = new NmiTracker([0, -96], [0x7777n]);
    t.delivered({ cpu: 1, step: 1, frame: 0x2000n, rip: 0x1n, rsp: 0x2n, cs: 0x10 });
    expect(t.iret({ cpu: 1, step: 2, frame: 0x2000n - 96n, rip: 0x7777n, rsp: 0x3n, cs: 0x10 })).toBeUndefined();
    expect(t.active(1)).toHaveLength(1);
    expect(t.iret({ cpu: 1, step: 3, frame: 0x2000n - 96n, rip: 0x1n, rsp: 0x2n, cs: 0x10 })).toBeUndefined();
    expect(t.active(1)).toHaveLength(0);
    expect(t.completed).toBe(1);
  });
});
