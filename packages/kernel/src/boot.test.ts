import { describe, expect, it } from 'vitest';
import { bootKernel } from './boot.js';
import { minimalEntry } from './test-support.js';
import { KernelError } from './errors.js';

describe('bootKernel (x86_64)', () => {
  it('runs user tasks that make system calls through syscall/sysretq', () => {
    const k = bootKernel({ arch: 'x86_64', entry: minimalEntry('x86_64'), cpus: [{ program: { kind: 'user-syscalls' } }, { program: { kind: 'kernel-loop' } }] });
    k.machine.run({ steps: 2000 });
    expect(k.readPercpu(0, 'syscalls')).toBeGreaterThan(10n);
    expect(k.machine.cpus[0]!.cpl === 3 || k.machine.cpus[0]!.cpl === 0).toBe(true);
    expect(k.readPercpu(1, 'syscalls')).toBe(0n);
  });

  it('syncs the vmalloc mapping into a task\'s table on first touch in NMI context, by machine code', () => {
    const k = bootKernel({ arch: 'x86_64', entry: minimalEntry('x86_64'), cpus: [{ program: { kind: 'user-syscalls' }, bufferSynced: false }] });
    const m = k.machine;
    const space = k.tasks[0]!.space;
    const slot = (k.perfBuffer(0) >> 39n) & 511n;
    expect(m.read(space.pgd + slot * 8n, 8)).toBe(0n);
    m.run({ steps: 100 });
    k.raisePmuNmi(0, 'sampler');
    m.startTrace({ kinds: ['delivery'] });
    m.run({ steps: 3000 });
    expect(m.trace.some((e) => e.kind === 'delivery' && e.vector === 14)).toBe(true);
    expect(m.read(space.pgd + slot * 8n, 8)).toBe(m.read(m.kernelSpace.pgd + slot * 8n, 8));
    expect(k.readPercpu(0, 'perfSamples')).toBe(1n);
    expect(m.read(k.perfBuffer(0), 8)).toBe(0x5045524en);
  });

  it('show_state prints every task, and a bad frame pointer ends that task\'s trace through the exception table', () => {
    const k = bootKernel({
      arch: 'x86_64',
      entry: minimalEntry('x86_64'),
      cpus: [{ program: { kind: 'kernel-lockup' }, lockedUp: true }],
      sleepers: [{ name: 'init' }, { name: 'broken', badFrame: true }, { name: 'sshd' }],
      serialCyclesPerByte: 1,
    });
    k.machine.run({ steps: 50 });
    k.raisePmuNmi(0, 'watchdog');
    k.machine.run({ steps: 20000 });
    const text = k.machine.console;
    expect(text).toContain('Watchdog detected hard LOCKUP on cpu 0');
    for (const t of ['lockup/0', 'init', 'broken', 'sshd']) expect(text).toContain(`task ${t} pid`);
    expect(text.slice(text.indexOf('task broken'), text.indexOf('task sshd'))).toContain('<bad frame>');
    expect(text).toContain('-- end of task list --');
    expect(k.readPercpu(0, 'nmiCount')).toBe(1n);
  });

  it('refuses an entry for the other architecture', () => {
    expect(() => bootKernel({ arch: 'x86_64', entry: minimalEntry('i386'), cpus: [{ program: { kind: 'kernel-loop' } }] })).toThrow(KernelError);
    try {
      bootKernel({ arch: 'x86_64', entry: minimalEntry('i386'), cpus: [{ program: { kind: 'kernel-loop' } }] });
    } catch (e) {
      expect((e as KernelError).code).toBe('KERNSIM_KERNEL_BAD_OPTIONS');
    }
  });
});
