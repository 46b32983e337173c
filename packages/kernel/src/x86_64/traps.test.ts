import { describe, expect, it } from 'vitest';
import { bootKernel } from '../boot.js';
import { layoutOf } from '../layout.js';
import { minimalEntry } from '../test-support.js';
import { NR_GETPID } from '../user-programs.js';

describe('the system call path', () => {
  it('x86_64: syscall enters on the user stack with user GS, swapgs, parks RSP in old_rsp, runs on kernel_stack, sysretq returns the pid', () => {
    const k = bootKernel({ arch: 'x86_64', entry: minimalEntry('x86_64'), cpus: [{ program: { kind: 'kernel-loop' } }, { program: { kind: 'user-syscalls' } }] });
    const m = k.machine;
    const c = m.cpus[1]!;
    const at = (name: string): void => {
      m.run({ steps: 5000, until: () => c.rip === k.symbol(name) });
      expect(c.rip).toBe(k.symbol(name));
    };
    const userTop = layoutOf('x86_64').userStack + 2n * BigInt(layoutOf('x86_64').userStackStride);
    at('system_call');
    // Kernel CS already, still on the user's stack and the user's GS base: what an NMI here sees.
    expect(c.cpl).toBe(0);
    expect(c.rsp).toBe(userTop);
    expect(c.gsBase).toBe(0n);
    expect(c.reg('rax')).toBe(BigInt(NR_GETPID.x86_64));
    at('system_call_after_stack_switch');
    expect(c.gsBase).toBe(k.percpuBase(1));
    expect(c.rsp).toBe(k.tasks[1]!.stackTop);
    expect(k.readPercpu(1, 'oldRsp')).toBe(userTop);
    at('user_syscall_loop');
    expect(c.cpl).toBe(3);
    expect(c.rsp).toBe(userTop);
    expect(c.gsBase).toBe(0n);
    expect(c.reg('rax')).toBe(BigInt(k.tasks[1]!.pid));
    expect(k.readPercpu(1, 'syscalls')).toBe(1n);
    expect(k.readPercpu(0, 'syscalls')).toBe(0n);
  });

  it('i386: int $0x80 through a DPL-3 trap gate, pt_regs on the task\'s kernel stack, the pid back in eax', () => {
    const k = bootKernel({ arch: 'i386', entry: minimalEntry('i386'), cpus: [{ program: { kind: 'user-syscalls' } }] });
    const m = k.machine;
    const c = m.cpus[0]!;
    m.startTrace({ kinds: ['delivery'] });
    m.run({ steps: 5000, until: () => c.rip === k.symbol('system_call') });
    expect(c.cpl).toBe(0);
    const d = m.trace.find((e) => e.kind === 'delivery' && e.vector === 0x80);
    expect(d).toBeDefined();
    // The frame went on the task's kernel stack (TSS esp0), with the user SS:ESP.
    expect(c.rsp).toBe(k.tasks[0]!.stackTop - 20n);
    m.run({ steps: 5000, until: () => c.rip === k.symbol('user_syscall_loop') });
    expect(c.cpl).toBe(3);
    expect(c.reg('eax')).toBe(1n);
    expect(k.readPercpu(0, 'syscalls')).toBe(1n);
  });
});
