import { MSR, imm } from '@kernsim/cpu-core';
import { emitEoi, emitSendIpiTo } from './apic.js';
import { KERNEL_VECTOR } from '../vectors.js';
import type { SmpCodeContext } from './code-context.js';
import { SM_STATE, STAT } from './layout.js';

export interface StopMachineOptions {
  /** Label of the function every CPU runs in the RUN state of `stop_machine_text_poke_batch` (3.3's text_poke_smp: `stop_machine_text_poke`). */
  readonly run: string;
}

/**
 * 3.3's `__stop_machine()` as `kernel/stop_machine.c` has it, entered as `__stop_machine`
 * with the function's address in `smFn` and `smActiveAll` saying whether every CPU runs it
 * or only the first online one (`stop_machine(fn, data, NULL)`, as ftrace calls it), or as
 * `stop_machine_text_poke_batch` (text_poke_smp_batch: `options.run` on every CPU):
 *  - `queue_stop_cpus_work()`: for each online CPU in turn, `cpu_stop_queue_work()` takes
 *    that CPU's stopper lock and queues the work (a locked operation on the target's line),
 *    and `wake_up_process()` sends it a reschedule IPI (one ICR write per CPU; the caller's
 *    own stopper just gets need_resched);
 *  - `wait_for_completion()`: the caller's `schedule()` runs its own stopper, then, unless
 *    `nr_todo` is already 0, the caller sleeps (`sti; hlt`) until the stopper that brings
 *    `nr_todo` to 0 wakes it with `complete()` — a reschedule IPI to the caller's CPU;
 *  - `reschedule_interrupt` (`scheduler_ipi()` → `sched_ttwu_pending()`) only makes the
 *    stopper runnable and sets need_resched: the CPU runs its stopper at its next schedule
 *    point (`schedule_point`, which the workloads call once an iteration), not in the IPI
 *    handler;
 *  - `cpu_stopper_thread` takes the work, runs `stop_machine_cpu_stop` (the state machine:
 *    interrupts off at DISABLE_IRQ, the function at RUN on the active CPUs, every state
 *    acknowledged; the last CPU to acknowledge moves everyone on) and signals done.
 * `schedule_point` and `cpu_stopper_thread` take this CPU's statistics block in bx.
 */
export function emitStopMachine(ctx: SmpCodeContext, options: StopMachineOptions): void {
  emitStopMachineCaller(ctx, options);
  emitStopperWakeUp(ctx);
  emitStopperThread(ctx);
  emitStopMachineCpuStop(ctx);
}

function emitStopMachineCaller(ctx: SmpCodeContext, options: StopMachineOptions): void {
  const { a, isa } = ctx;
  a.label('stop_machine_text_poke_batch');
  a.push(isa.ax);
  a.mov(isa.ax, imm(options.run)).mov(ctx.v('smFn'), isa.ax);
  a.mov(ctx.v('smActiveAll'), 1);
  a.pop(isa.ax);

  a.label('__stop_machine');
  a.push(isa.ax).push(isa.bx).push(isa.cx).push(isa.dx);
  a.mov(isa.ax, ctx.v('onlineCpus'));
  a.mov(ctx.v('smThreads'), isa.ax).mov(ctx.v('smAck'), isa.ax).mov(ctx.v('smTodo'), isa.ax);
  a.mov(ctx.v('smFirst'), 1).mov(ctx.v('wroteText'), 0);
  a.mov(ctx.v('smState'), SM_STATE.prepare);
  // queue_stop_cpus_work(): every online CPU's stopper, one after another
  a.mov(isa.ecx, MSR.X2APIC_ID).rdmsr().mov(isa.bx, isa.ax); // bx = this CPU
  a.mov(ctx.v('smCaller'), isa.bx);
  const queue = ctx.local('sm_queue');
  const queued = ctx.local('sm_queued');
  a.push(isa.bx);
  ctx.stamp('smQueueStartTsc');
  a.pop(isa.bx);
  a.xor(isa.ecx, isa.ecx);
  a.label(queue);
  a.cmp(isa.cx, ctx.v('onlineCpus')).jae(queued);
  a.call('cpu_stop_queue_work');
  a.inc(isa.ecx).jmp(queue);
  a.label(queued);
  ctx.stamp('smQueueEndTsc');
  // wait_for_completion(): schedule() picks this CPU's stopper first
  ctx.cpuStat(isa.bx);
  a.call('schedule_point');
  emitWaitForCompletion(ctx);
  a.pop(isa.dx).pop(isa.cx).pop(isa.bx).pop(isa.ax);
  a.ret();
}

/**
 * `wait_for_completion(&done.completion)`: join the wait queue (an xchg, a full barrier, as
 * the wait-queue lock is), and unless `nr_todo` is already 0 sleep until an interrupt; the
 * completer's reschedule IPI ends the sleep. `sti; hlt` cannot lose that IPI: sti's shadow
 * keeps interrupts off until hlt has started. Clobbers ax.
 */
function emitWaitForCompletion(ctx: SmpCodeContext): void {
  const { a, isa } = ctx;
  const sleep = ctx.local('sm_sleep');
  const done = ctx.local('sm_woken');
  a.label(sleep);
  a.mov(isa.eax, 1).xchg(ctx.v('smWaiting'), isa.ax);
  a.cmp(ctx.v('smTodo'), 0).je(done);
  a.sti().hlt();
  a.jmp(sleep);
  a.label(done);
  a.mov(ctx.v('smWaiting'), 0);
}

/** `complete(&done->completion)` from the stopper that brought `nr_todo` to 0: wake the sleeping caller. Clobbers ax, cx, dx. */
function emitComplete(ctx: SmpCodeContext): void {
  const { a, isa } = ctx;
  const none = ctx.local('sm_no_waiter');
  a.xor(isa.eax, isa.eax).xchg(ctx.v('smWaiting'), isa.ax);
  a.test(isa.eax, isa.eax).je(none);
  // try_to_wake_up() -> the caller's CPU idles in hlt (not polling): smp_send_reschedule()
  a.mov(isa.edx, ctx.vd('smCaller'));
  a.mov(isa.eax, KERNEL_VECTOR.RESCHEDULE);
  emitSendIpiTo(ctx);
  a.inc(ctx.v('ipisSent'));
  a.label(none);
}

/** `cpu_stop_queue_work(cx = cpu)` from the CPU `bx` names; keeps every register. */
function emitStopperWakeUp(ctx: SmpCodeContext): void {
  const { a, isa } = ctx;
  a.label('cpu_stop_queue_work');
  a.push(isa.ax).push(isa.cx).push(isa.dx);
  a.mov(isa.eax, isa.ecx).shl(isa.ax, STAT.shift).add(isa.ax, ctx.layout.work);
  // spin_lock(&stopper->lock); list_add_tail(): the target CPU's line comes over
  a.lock().or(isa.dword(isa.ax, STAT.stopWork), 1);
  const remote = ctx.local('sm_remote');
  const out = ctx.local('sm_queued_one');
  a.cmp(isa.cx, isa.bx).jne(remote);
  // our own stopper preempts us: resched_task(current)
  a.mov(isa.dword(isa.ax, STAT.needResched), 1).jmp(out);
  a.label(remote);
  // ttwu_queue_remote() -> smp_send_reschedule(cpu): one ICR write with the destination
  a.mov(isa.edx, isa.ecx);
  a.mov(isa.eax, KERNEL_VECTOR.RESCHEDULE);
  emitSendIpiTo(ctx);
  a.inc(ctx.v('ipisSent'));
  a.label(out);
  a.pop(isa.dx).pop(isa.cx).pop(isa.ax);
  a.ret();

  // scheduler_ipi(): the woken stopper preempts what runs here, at the next schedule point
  a.label('reschedule_interrupt');
  ctx.save();
  ctx.stallBegin();
  emitEoi(ctx);
  ctx.cpuStat(isa.ax);
  a.mov(isa.dword(isa.ax, STAT.needResched), 1);
  ctx.stallEnd('ipis');
  ctx.restore();
  ctx.iret();
}

function emitStopperThread(ctx: SmpCodeContext): void {
  const { a, isa } = ctx;
  // cond_resched(): a load and a branch unless need_resched is set
  a.label('schedule_point');
  const none = ctx.local('no_resched');
  a.cmp(isa.dword(isa.bx, STAT.needResched), 0).je(none);
  a.mov(isa.dword(isa.bx, STAT.needResched), 0);
  a.call('cpu_stopper_thread');
  a.label(none);
  a.ret();

  a.label('cpu_stopper_thread');
  a.push(isa.ax).push(isa.cx).push(isa.dx).push(isa.si);
  ctx.stallBegin();
  const idle = ctx.local('stopper_idle');
  // spin_lock_irq(&stopper->lock); list_del_init(): take the work
  a.xor(isa.eax, isa.eax).xchg(isa.dword(isa.bx, STAT.stopWork), isa.eax);
  a.test(isa.eax, isa.eax).je(idle);
  a.call('stop_machine_cpu_stop');
  // cpu_stop_signal_done(): atomic_dec_and_test(&done->nr_todo), complete() on the last
  a.lock().dec(ctx.v('smTodo')).jne(idle);
  emitComplete(ctx);
  a.label(idle);
  ctx.stallEnd();
  a.pop(isa.si).pop(isa.dx).pop(isa.cx).pop(isa.ax);
  a.ret();
}

function emitStopMachineCpuStop(ctx: SmpCodeContext): void {
  const { a, isa } = ctx;
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
  // is_active: every CPU, or the first online one (CPU 0, whose statistics block comes first)
  const active = ctx.local('sm_active');
  a.cmp(ctx.v('smActiveAll'), 0).jne(active);
  a.cmp(isa.bx, ctx.layout.work).jne(ack);
  a.label(active);
  a.call(ctx.v('smFn'));
  a.label(ack);
  // ack_state(): the last one to acknowledge moves everyone on
  a.lock().dec(ctx.vd('smAck')).jne(check);
  a.mov(isa.eax, ctx.vd('smThreads')).mov(ctx.vd('smAck'), isa.eax);
  const moved = ctx.local('sm_moved');
  a.cmp(isa.esi, SM_STATE.prepare).jne(moved);
  a.push(isa.dx);
  ctx.stamp('smJoinedTsc');
  a.pop(isa.dx);
  a.label(moved);
  a.mov(isa.eax, isa.esi).inc(isa.eax).mov(ctx.vd('smState'), isa.eax);
  a.label(check);
  a.cmp(isa.esi, SM_STATE.exit).jne(loop);
  // 3.3 does nothing more here. cpu-core lets a CPU run bytes another CPU changed only after
  // a serialising event of its own; a CPU that did not run the function gets back to its
  // task in 3.3 through schedule(), long after the write, with nothing of the old bytes
  // left in its pipeline. sync_core() stands in for that (as the NMI path's does for 3.3's
  // fresh fetch); text_poke_smp's function already ends in sync_core() on every CPU.
  const fresh = ctx.local('sm_fresh');
  a.cmp(ctx.v('smActiveAll'), 0).jne(fresh);
  a.cmp(isa.bx, ctx.layout.work).je(fresh);
  a.call('sync_core');
  a.label(fresh);
  a.popf(); // local_irq_restore
  a.pop(isa.si).pop(isa.ax);
  a.ret();
}
