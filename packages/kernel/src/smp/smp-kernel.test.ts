import { createMachine, imm } from '@kernsim/cpu-core';
import type { Arch } from '@kernsim/cpu-core';
import { describe, expect, it } from 'vitest';
import { SmpCodeContext } from './code-context.js';
import { emitHandlers } from './handlers.js';
import { emitInt3Entry } from './int3.js';
import { emitKprobeInt3Handler } from './kprobes.js';
import { SM_STATE, STAT, smpLayoutOf, varAddress } from './layout.js';
import type { VarName } from './layout.js';
import { loadSmpKernel, smpMemoryMiB } from './smp-kernel.js';
import { emitStopMachine } from './stop-machine.js';
import { emitSync } from './sync.js';

// CPU 0 runs one on_each_cpu(do_sync_core) round and one stop_machine whose function counts
// its runs with interrupts off; the other CPUs idle with interrupts on and answer the IPIs,
// passing a schedule point each turn (or, with `noSchedulePoint`, CPU 1 never does).
// With `firstOnly` the stop_machine is `stop_machine(fn, data, NULL)`: fn on the first online CPU only.
function boot(arch: Arch, cpus: number, timing: 'flat' | 'modelled' = 'modelled', noSchedulePoint?: number, firstOnly = false) {
  const layout = smpLayoutOf(arch);
  const ctx = new SmpCodeContext(arch, layout);
  const { a, isa } = ctx;
  a.label('main');
  a.call('run_sync');
  if (firstOnly) {
    a.mov(isa.ax, imm('sm_fn')).mov(ctx.v('smFn'), isa.ax);
    a.mov(ctx.v('smActiveAll'), 0);
    a.call('__stop_machine');
  } else a.call('stop_machine_text_poke_batch');
  a.mov(ctx.v('patchDone'), 1);
  a.label('idle').sti();
  ctx.cpuStat(isa.bx);
  a.label('spin').nop().call('schedule_point').jmp('spin');
  a.label('busy').sti();
  a.label('busy_spin').nop().jmp('busy_spin');
  // The stop_machine function: count the runs, and the runs with interrupts on.
  a.label('sm_fn');
  a.lock().inc(ctx.v('scratch'));
  a.pushf().pop(isa.ax).test(isa.eax, 0x200).je('sm_fn_out');
  a.lock().inc(ctx.v('filtered'));
  a.label('sm_fn_out').ret();
  a.label('nmi_fn').ret();
  a.align(8).label('nmi_fn_ptr');
  if (isa.bits === 64) a.dq('nmi_fn');
  else a.dd('nmi_fn');
  emitSync(ctx);
  emitStopMachine(ctx, { run: 'sm_fn' });
  emitKprobeInt3Handler(ctx);
  emitInt3Entry(ctx, [{ label: 'kprobe_int3_handler' }]);
  emitHandlers(ctx, { ftraceNmiProtocol: false, nmiCalls: 'nmi_fn_ptr' });
  const code = a.assemble();
  const m = createMachine({ arch, cpus, seed: 1, timing, memoryMiB: smpMemoryMiB(layout, cpus) });
  loadSmpKernel(m, { arch, layout, code, slots: undefined, symbols: code.labels }, cpus);
  const w = isa.w;
  const v = (name: VarName): bigint => varAddress(layout, name);
  m.write(v('onlineCpus'), w, BigInt(cpus));
  for (let i = 0; i < cpus; i++) {
    const entry = i === 0 ? 'main' : i === noSchedulePoint ? 'busy' : 'idle';
    m.start(i, { rip: code.labels.get(entry)!, rsp: layout.stacks + BigInt((i + 1) * layout.stackSize) - 64n, interrupts: true });
  }
  const read = (name: VarName): number => Number(m.read(v(name), w));
  const stat = (cpu: number, field: 'ipis' | 'stall'): number => Number(m.read(layout.work + BigInt(cpu * STAT.size + STAT[field]), w));
  return { m, read, stat };
}

describe('the lean SMP kernel', () => {
  for (const arch of ['x86_64', 'i386'] as const) {
    it(`${arch}: a sync round reaches every other CPU once, and stop_machine runs its function on every CPU with interrupts off`, () => {
      const cpus = 4;
      const { m, read, stat } = boot(arch, cpus);
      const r = m.run({ steps: 200_000, scheduler: { kind: 'round-robin', quantum: 1 }, until: () => read('patchDone') !== 0 });
      expect(r.reason).toBe('until');
      // the stoppers leave their handlers after CPU 0 returned
      m.run({ steps: 4000, scheduler: { kind: 'round-robin', quantum: 1 } });
      expect(read('syncRounds')).toBe(1);
      // one broadcast for the sync round (n-1 IPIs), then one wake-up IPI per other stopper
      expect(read('ipisSent')).toBe(2 * (cpus - 1));
      expect(m.ipisDelivered).toBe(read('ipisSent'));
      expect(read('scratch')).toBe(cpus);
      expect(read('filtered')).toBe(0);
      for (let c = 1; c < cpus; c++) {
        expect(stat(c, 'ipis')).toBe(2);
        expect(stat(c, 'stall')).toBeGreaterThan(0);
      }
      expect(stat(0, 'ipis')).toBe(0);
      expect(m.cpus.every((c) => c.status === 'running')).toBe(true);
    });
  }

  it('stop_machine(fn, data, NULL) runs fn on the first online CPU only; the others go round the states', () => {
    const cpus = 4;
    const { m, read, stat } = boot('x86_64', cpus, 'modelled', undefined, true);
    const r = m.run({ steps: 200_000, scheduler: { kind: 'round-robin', quantum: 1 }, until: () => read('patchDone') !== 0 });
    expect(r.reason).toBe('until');
    expect(read('scratch')).toBe(1);
    expect(read('filtered')).toBe(0);
    expect(read('smTodo')).toBe(0);
    // a wake-up per other stopper; CPU 0 took one more IPI only if it had gone to sleep
    expect(m.ipisDelivered).toBe(2 * (cpus - 1) + stat(0, 'ipis'));
  });

  it('a woken stopper runs at the CPU\'s next schedule point, not in the IPI handler: a CPU that never reaches one holds stop_machine up', () => {
    const { m, read, stat } = boot('x86_64', 3, 'modelled', 1);
    const r = m.run({ steps: 100_000, scheduler: { kind: 'round-robin', quantum: 1 }, until: () => read('patchDone') !== 0 });
    expect(r.reason).not.toBe('until');
    // CPU 1 took its wake-up IPI but never ran its stopper; CPUs 0 and 2 acknowledged
    // PREPARE and wait for it there
    expect(stat(1, 'ipis')).toBe(2);
    expect(read('smState')).toBe(SM_STATE.prepare);
    expect(read('smAck')).toBe(1);
    expect(read('smTodo')).toBe(3);
    expect(read('scratch')).toBe(0);
  });

  it('stop_machine costs more per CPU under the modelled timing than under flat: each stopper is woken in turn', () => {
    const cost = (timing: 'flat' | 'modelled', cpus: number): number => {
      const { m, read } = boot('x86_64', cpus, timing);
      const r = m.run({ steps: 400_000, scheduler: { kind: 'round-robin', quantum: 1 }, until: () => read('patchDone') !== 0 });
      expect([timing, cpus, r.reason, read('smState'), read('smAck'), read('smTodo')]).toEqual([timing, cpus, 'until', SM_STATE.exit + 1, read('smThreads'), 0]);
      return m.cpus[0]!.cycles;
    };
    const flatPerCpu = (cost('flat', 16) - cost('flat', 4)) / 12;
    const modelledPerCpu = (cost('modelled', 16) - cost('modelled', 4)) / 12;
    // flat: the instructions of one more turn of the queueing loop and the rendezvous
    expect(flatPerCpu).toBeLessThan(60);
    // modelled: an ICR write, a serialising wrmsr and line transfers per CPU
    expect(modelledPerCpu).toBeGreaterThan(400);
  });
});
