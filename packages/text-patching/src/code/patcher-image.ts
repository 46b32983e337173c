import type { Arch, AssembledCode } from '@kernsim/cpu-core';
import { SmpCodeContext, emitFtraceModCode, emitSync } from '@kernsim/kernel/smp';
import type { SmpLayout } from '@kernsim/kernel/smp';
import { emitOldBytesChecks } from './old-bytes.js';
import { emitPatchers } from './patchers.js';
import { emitPokeInt3Handler } from './poke-int3.js';
import { emitQuiesceCheck } from './quiesce.js';
import { emitStopMachinePoke } from './stop-machine-poke.js';
import { emitTextPoke } from './text-poke.js';

/**
 * Where the patcher lives inside the booted NMI kernel (its free `extraText`/`extraData`): its code at `text`, and in the 64 KiB at
 * `data` its control words (first page), its patch table (next 32 KiB) and per-CPU
 * statistics (the rest: 128 bytes a CPU).
 */
export function patcherLayout(text: bigint, data: bigint): SmpLayout {
  return {
    text,
    textSize: 0x10000,
    data,
    dataSize: 0x1000,
    table: data + 0x1000n,
    kprobeTable: data + 0x9000n,
    work: data + 0xa000n,
    slots: data,
    stacks: data,
    stackSize: 0,
    percpu: data,
    percpuStride: 0,
  };
}

/**
 * The patching code loaded into a booted NMI kernel: the kernel's SMP part that kernel
 * lacks (sync IPI and stop_machine stopper handlers, from `@kernsim/kernel/smp`), the
 * pokers, the patch routines and the #BP hook for the kernel's int3 chain. Symbols:
 *  - `tp_patcher_main`: patch (breakpoint or stop_machine, in `cx` as in our own image),
 *    record the end, then idle with interrupts on;
 *  - `tp_idle`: enable interrupts and spin with a schedule point (a CPU that must answer
 *    the sync IPIs and run its stopper);
 *  - `tp_int3_hook(di = pt_regs) -> ax`: for the kernel's int3 chain (`ipOffset` = where
 *    pt_regs keeps the trap ip); every register but ax preserved;
 *  - `tp_tracer`: what the ftrace call at a site reaches: it counts.
 */
export function buildPatcher(arch: Arch, layout: SmpLayout, ipOffset: number): AssembledCode {
  const ctx = new SmpCodeContext(arch, layout);
  const { a, isa } = ctx;
  emitSync(ctx, { onInterrupt: emitQuiesceCheck });
  emitTextPoke(ctx);
  emitFtraceModCode(ctx);
  emitStopMachinePoke(ctx, { nmiSafeWrites: false });
  emitOldBytesChecks(ctx);
  emitPatchers(ctx);
  emitPokeInt3Handler(ctx);

  a.label('tp_int3_hook');
  a.push(isa.di);
  a.add(isa.di, ipOffset);
  a.call('poke_int3_handler');
  a.pop(isa.di);
  const notOurs = ctx.local('hook_not_ours');
  a.test(isa.eax, isa.eax).je(notOurs);
  a.lock().inc(ctx.v('bpHits'));
  a.label(notOurs);
  a.ret();

  a.label('tp_tracer');
  a.lock().inc(ctx.v('traceCalls'));
  a.ret();

  a.label('tp_patcher_main');
  a.mov(ctx.v('patchStarted'), 1);
  a.call(isa.cx);
  a.mov(ctx.v('patchDone'), 1);
  a.label('tp_idle');
  a.sti();
  ctx.cpuStat(isa.bx);
  const spin = ctx.local('idle');
  a.label(spin).pause().call('schedule_point').jmp(spin);
  return a.assemble();
}
