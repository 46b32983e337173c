import type { SmpCodeContext } from '@kernsim/kernel/smp';

/**
 * What each CPU runs. Registers on entry (set at boot): bx = this CPU's work counter,
 * si = index of the first function to call, di = an iteration count (patcher: delay before
 * patching; irqs-off CPU: length of its interrupts-off section).
 *  - `workload`: call the functions in turn forever, counting iterations in [bx], with a
 *    schedule point after each call;
 *  - `patcher_main`: `di` iterations of that, then the patch method in `cx`, then work on;
 *  - `irqoff_main`: `cli`, a delay loop of `di` turns (3 cycles each), `sti`, then work on.
 */
export function emitWorkloads(ctx: SmpCodeContext, functionCount: number): void {
  const { a, isa } = ctx;

  const iteration = (): void => {
    const wrap = ctx.local('wrap');
    a.mov(isa.ax, isa.word(undefined, isa.si, isa.w, 'fn_table'));
    a.call(isa.ax);
    a.inc(isa.word(isa.bx));
    // cond_resched(): where a woken stopper thread gets this CPU (bx = its statistics block)
    a.call('schedule_point');
    a.inc(isa.si).cmp(isa.si, functionCount).jb(wrap);
    a.xor(isa.si, isa.si);
    a.label(wrap);
  };
  const counted = (): void => {
    const loop = ctx.local('counted');
    const done = ctx.local('counted_done');
    a.label(loop);
    a.test(isa.di, isa.di).je(done);
    iteration();
    a.dec(isa.di).jmp(loop);
    a.label(done);
  };

  a.label('workload');
  iteration();
  a.jmp('workload');

  a.label('patcher_main');
  counted();
  a.push(isa.cx);
  ctx.stamp('patchStartTsc');
  a.pop(isa.cx);
  a.mov(ctx.v('patchStarted'), 1);
  a.call(isa.cx);
  ctx.stamp('patchEndTsc');
  a.mov(ctx.v('patchDone'), 1);
  a.jmp('workload');

  // A fixed stretch with interrupts off (a spinlock held with irqs disabled): 3 cycles a turn.
  a.label('irqoff_main');
  a.cli();
  const spin = ctx.local('irqoff');
  a.label(spin).nop().dec(isa.di).jne(spin);
  a.sti();
  a.jmp('workload');
}
