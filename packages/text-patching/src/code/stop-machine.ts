import { emitEoi, emitSendIpiAllButSelf } from './apic.js';
import { VECTOR } from './context.js';
import type { CodeContext } from './context.js';
import { ENTRY, SM_STATE } from './layout.js';

export interface StopMachineOptions {
  /** Write each site through 3.3 ftrace's NMI-aware `do_ftrace_mod_code` instead of plain text_poke. */
  readonly nmiSafeWrites: boolean;
}

/**
 * 3.3's `__stop_machine()` with `stop_machine_text_poke()` (text_poke_smp_batch) as the
 * function: the patcher sets PREPARE, wakes every CPU's stopper (the reschedule IPI stands
 * for queueing work on the stopper thread), and all CPUs, itself included, run
 * `stop_machine_cpu_stop`: a loop that follows the state, disables interrupts at
 * DISABLE_IRQ, runs the function at RUN, and acknowledges each state; the last CPU to
 * acknowledge moves everyone to the next one. In RUN the first CPU to arrive writes every
 * site while the others wait for `wrote_text`; then each runs `sync_core()`.
 */
export function emitStopMachine(ctx: CodeContext, options: StopMachineOptions): void {
  const { a, isa } = ctx;

  a.label('stop_machine_text_poke_batch');
  a.push(isa.ax);
  a.mov(isa.ax, ctx.v('onlineCpus'));
  a.mov(ctx.v('smThreads'), isa.ax).mov(ctx.v('smAck'), isa.ax);
  a.mov(ctx.v('smFirst'), 1).mov(ctx.v('wroteText'), 0);
  a.mov(ctx.v('smState'), SM_STATE.prepare);
  a.dec(isa.ax).add(ctx.v('ipisSent'), isa.ax);
  emitSendIpiAllButSelf(ctx, VECTOR.reschedule);
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
  a.call('stop_machine_text_poke');
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

  a.label('stop_machine_text_poke');
  a.push(isa.ax).push(isa.bx).push(isa.cx);
  const wait = ctx.local('sm_wait');
  const sync = ctx.local('sm_sync');
  a.lock().dec(ctx.v('smFirst')).jne(wait);
  // the writer: every site of the batch
  const each = ctx.local('sm_each');
  const wrote = ctx.local('sm_wrote');
  a.mov(isa.bx, ctx.v('bpVec')).mov(isa.cx, ctx.v('bpNr'));
  a.label(each);
  a.test(isa.cx, isa.cx).je(wrote);
  a.mov(isa.ax, isa.bx);
  a.call(options.nmiSafeWrites ? 'ftrace_mod_code_entry' : 'text_poke_entry');
  a.add(isa.bx, ENTRY.size).dec(isa.cx).jmp(each);
  a.label(wrote);
  a.mov(ctx.v('wroteText'), 1);
  a.jmp(sync);
  a.label(wait);
  ctx.relax();
  a.cmp(ctx.v('wroteText'), 0).je(wait);
  a.label(sync);
  a.call('sync_core');
  a.pop(isa.cx).pop(isa.bx).pop(isa.ax);
  a.ret();
}
