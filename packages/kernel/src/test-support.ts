import type { Arch } from '@kernsim/cpu-core';
import { reg } from '@kernsim/cpu-core';
import type { NmiEntry } from './nmi-entry.js';
import type { BuildContext } from './build-context.js';
import { bootKernel } from './boot.js';
import type { BootOptions, Kernel } from './boot.js';
import { PT_REGS_64 } from './build-context.js';
import { restoreAll64 } from './x86_64/restore.js';
import { restoreAll32, saveAll32 } from './i386/arch-i386.js';

/** The simplest NMI entry for each architecture, for the kernel's own tests. */
export function minimalEntry(arch: Arch): NmiEntry {
  return {
    id: `minimal-${arch}`,
    arch,
    title: 'test entry',
    exitFrameOffsets: [0],
    trampolines: [],
    landmarks: ['nmi'],
    emit(ctx) {
      const { a } = ctx;
      a.label('nmi');
      if (arch === 'x86_64') {
        a.push(-1);
        a.sub(reg.rsp, PT_REGS_64.origAx);
        a.call('save_paranoid');
        a.mov(reg.rdi, reg.rsp);
        a.call('do_nmi');
        a.test(reg.ebx, reg.ebx);
        a.jnz('.Lmin_restore');
        a.swapgs();
        a.label('.Lmin_restore');
        restoreAll64(ctx);
        a.iretq();
      } else {
        a.push(reg.eax);
        saveAll32(ctx);
        a.mov(reg.edi, reg.esp);
        a.call('do_nmi');
        restoreAll32(ctx);
        a.iret();
      }
    },
  };
}

/**
 * Boots one CPU running a kernel thread, then points it at `harness`, machine code the
 * test assembles into the kernel text (it should end in `hlt`). The harness may keep
 * results in `layout.extraData`.
 */
export function bootHarness(
  arch: Arch,
  harness: (ctx: BuildContext) => void,
  options: Partial<Omit<BootOptions, 'arch' | 'entry' | 'extraCode'>> = {},
): Kernel {
  const k = bootKernel({
    arch,
    entry: minimalEntry(arch),
    cpus: options.cpus ?? [{ program: { kind: 'kernel-loop' } }],
    ...options,
    extraCode: (ctx) => {
      ctx.a.label('test_harness');
      harness(ctx);
      ctx.a.label('test_harness_halt');
      ctx.a.hlt();
      ctx.a.jmp('test_harness_halt');
    },
  });
  // Let cpu_startup program the MSRs first (x86_64), then take over.
  k.machine.run({ steps: 40 });
  k.machine.cpus[0]!.rip = k.symbol('test_harness');
  return k;
}

/** Runs until CPU 0 halts (or the step budget ends); returns whether it halted in the harness. */
export function runToHalt(k: Kernel, steps = 20_000): boolean {
  k.machine.run({ steps, until: (m) => m.isHalted(0) });
  return k.machine.isHalted(0) && k.machine.cpus[0]!.rip >= k.symbol('test_harness_halt') && k.machine.cpus[0]!.rip <= k.symbol('test_harness_halt') + 2n;
}
