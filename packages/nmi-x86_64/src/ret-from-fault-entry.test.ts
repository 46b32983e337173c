import { describe, expect, it } from 'vitest';
import { bootAtStart } from './explore/starts.js';
import { stepUntil } from './test-support.js';
import { retFromFaultEntry } from './ret-from-fault-entry.js';

describe('Desnoyers\'s ret-from-fault design', () => {
  it('the #PF in the NMI handler returns with ret: NMIs stay blocked until the NMI\'s own iretq, and a second NMI waits for it', () => {
    const { kernel: k } = bootAtStart(retFromFaultEntry(), 'nmi-perf');
    const m = k.machine;
    const c = m.cpus[0]!;
    const user = { rip: k.symbol('user_syscall_loop'), rsp: c.rsp };
    m.startTrace({ kinds: ['delivery', 'iret'] });
    expect(stepUntil(k, () => c.rip === k.symbol('nmi_exit'))).toBe(true);
    expect(m.trace.flatMap((e) => (e.kind === 'delivery' ? [e.name] : []))).toEqual(['NMI', '#PF']);
    expect(m.trace.filter((e) => e.kind === 'iret')).toHaveLength(0);
    expect(c.nmiBlocked).toBe(true);
    expect(k.readPercpu(0, 'inNmi')).toBe(1n);
    k.raisePmuNmi(0, 'sampler');
    expect(stepUntil(k, () => c.cpl === 3)).toBe(true);
    expect(k.readPercpu(0, 'inNmi')).toBe(0n);
    expect(k.readPercpu(0, 'nmiCount')).toBe(1n);
    // The latched NMI is delivered after the iretq and handled (the buffer is mapped now: no #PF).
    expect(stepUntil(k, () => c.cpl === 3 && k.readPercpu(0, 'nmiCount') === 2n)).toBe(true);
    expect(m.trace.filter((e) => e.kind === 'iret')).toHaveLength(2);
    expect(k.readPercpu(0, 'nmiDepthMax')).toBe(1n);
    expect({ rip: c.rip, rsp: c.rsp }).toEqual(user);
  });

  it('leaves the default kernel\'s exception exits alone: no nmi_safe_return without the design', () => {
    const { kernel: k } = bootAtStart(retFromFaultEntry(), 'nmi-perf');
    expect(k.symbol('nmi_safe_return')).toBeGreaterThan(0n);
    const { kernel: plain } = bootAtStart({ ...retFromFaultEntry(), id: 'ret-from-fault-without-exits', exceptionReturn: 'iret' }, 'nmi-perf');
    expect(() => plain.symbol('nmi_safe_return')).toThrow(/no kernel symbol/);
  });
});
