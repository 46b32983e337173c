import { describe, expect, it } from 'vitest';
import { bootAtStart } from './explore/starts.js';
import { stepUntil } from './test-support.js';
import { faultingIretEntry, FRAME_COPY_OFFSET } from './faulting-iret-entry.js';

describe('Torvalds\'s faulting-iret design', () => {
  it('a nested NMI marks the first one\'s frame and returns without iret; the first one\'s iretq faults and #GP runs the handler again', () => {
    const { kernel: k } = bootAtStart(faultingIretEntry(), 'nmi-perf');
    const m = k.machine;
    const c = m.cpus[0]!;
    const user = { rip: k.symbol('user_syscall_loop'), rsp: c.rsp, rbx: c.reg('rbx') };
    m.startTrace({ kinds: ['delivery', 'iret'] });
    // The #PF's iret inside the handler lifts the NMI block; the next NMI is nested.
    expect(stepUntil(k, () => m.trace.some((e) => e.kind === 'iret'))).toBe(true);
    const frame = k.readPercpu(0, 'nmiFrame');
    expect(frame).toBe(k.nmiStackTop(0) - 40n + BigInt(FRAME_COPY_OFFSET));
    k.raisePmuNmi(0, 'sampler');
    expect(stepUntil(k, () => c.rip === k.symbol('nmi_nested_ret'))).toBe(true);
    expect(m.read(frame + 8n, 8)).toBe(0n);
    expect(c.nmiBlocked).toBe(true);
    expect(stepUntil(k, () => c.rip === k.symbol('nmi_repeat'))).toBe(true);
    const gp = m.trace.filter((e) => e.kind === 'delivery' && e.name === '#GP');
    expect(gp).toHaveLength(1);
    expect(gp[0]!.kind === 'delivery' && gp[0]!.words.find((w) => w.field === 'RIP')?.value).toBe(k.symbol('nmi_iret'));
    expect(stepUntil(k, () => c.cpl === 3)).toBe(true);
    // Two handler runs for two NMIs, never nested; back in user mode as it was, the pointer cleared.
    expect(k.readPercpu(0, 'nmiCount')).toBe(2n);
    expect(k.readPercpu(0, 'nmiDepthMax')).toBe(1n);
    expect(k.readPercpu(0, 'nmiFrame')).toBe(0n);
    expect({ rip: c.rip, rsp: c.rsp, rbx: c.reg('rbx') }).toEqual(user);
  });

  it('finds the per-CPU area through MSR_KERNEL_GS_BASE when an NMI arrives with the user\'s %gs', () => {
    const { kernel: k } = bootAtStart(faultingIretEntry(), 'user');
    const m = k.machine;
    const c = m.cpus[0]!;
    expect(c.gsBase).toBe(0n);
    k.raisePmuNmi(0, 'sampler');
    expect(stepUntil(k, () => c.rip === k.symbol('nmi_first_frame'))).toBe(true);
    expect(stepUntil(k, () => c.cpl === 3)).toBe(true);
    expect(k.readPercpu(0, 'nmiCount')).toBe(1n);
    expect(c.gsBase).toBe(0n);
  });
});
