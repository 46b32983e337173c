import { emitEoi, emitSendIpiAllButSelf } from './apic.js';
import { KERNEL_VECTOR } from '../vectors.js';
import type { SmpCodeContext } from './code-context.js';
import { SM_STATE } from './layout.js';

export interface StopMachineOptions {
  /** Label of the function every CPU runs in the RUN state (3.3's text patching: `stop_machine_text_poke`). */
  readonly run: string;
}

/**
 * 3.3's `__stop_machine()`, entered as `stop_machine_text_poke_batch` (the caller of
 * text_poke_smp_batch): the patcher sets PREPARE, wakes every CPU's stopper (the
 * reschedule IPI stands for queueing work on the stopper thread), and all CPUs, itself
 * included, run `stop_machine_cpu_stop`: a loop that follows the state, disables
 * interrupts at DISABLE_IRQ, runs `options.run` at RUN, and acknowledges each state; the
 * last CPU to acknowledge moves everyone to the next one.
 */
export function emitStopMachine(ctx: SmpCodeContext, options: StopMachineOptions): void {
  const { a, isa } = ctx;

  a.label('stop_machine_text_poke_batch');
  a.push(isa.ax);
  a.mov(isa.ax, ctx.v('onlineCpus'));
  a.mov(ctx.v('smThreads'), isa.ax).mov(ctx.v('smAck'), isa.ax);
  a.mov(ctx.v('smFirst'), 1).mov(ctx.v('wroteText'), 0);
  a.mov(ctx.v('smState'), SM_STATE.prepare);
  a.dec(isa.ax).add(ctx.v('ipisSent'), isa.ax);
  emitSendIpiAllButSelf(ctx, KERNEL_VECTOR.RESCHEDULE);
  a.call('stop_machine_cpu_stop');
  a.pop(isa.ax);
  a.ret();

  // The stopper thread being scheduled on another CPU.
  a.label('reschedule_interrupt');
  ctx.save();
  ctx.stallBegin();
  emitEoi(ctx);
  a.call('stop_machine_cpu_stop');
  ctx.stallEnd('ipis');
  ctx.restore();
  ctx.iret();

  a.label('stop_machine_cpu_stop');
  a.push(isa.ax).push(isa.si);
  a.pushf(); // local_save_flags
  a.xor(isa.esi, isa.esi); // curstate = NONE
  const loop = ctx.local('sm_loop');
  const check = ctx.local('sm_check');
  const notIrq = ctx.local('sm_not_irq');
  const ack = ctx.local('sm_ack');
  a.label(loop);
  ctx.relax();
  a.mov(isa.eax, ctx.vd('smState'));
  a.cmp(isa.eax, isa.esi).je(check);
  a.mov(isa.esi, isa.eax);
  a.cmp(isa.eax, SM_STATE.disableIrq).jne(notIrq);
  a.cli();
  a.label(notIrq);
  a.cmp(isa.eax, SM_STATE.run).jne(ack);
  a.call(options.run);
  a.label(ack);
  // ack_state(): the last one to acknowledge moves everyone on
  a.lock().dec(ctx.vd('smAck')).jne(check);
  a.mov(isa.eax, ctx.vd('smThreads')).mov(ctx.vd('smAck'), isa.eax);
  a.mov(isa.eax, isa.esi).inc(isa.eax).mov(ctx.vd('smState'), isa.eax);
  a.label(check);
  a.cmp(isa.esi, SM_STATE.exit).jne(loop);
  a.popf(); // local_irq_restore
  a.pop(isa.si).pop(isa.ax);
  a.ret();
}
