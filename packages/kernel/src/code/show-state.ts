import { imm } from '@kernsim/cpu-core';
import type { BuildContext } from '../build-context.js';

/** Fields of the kernel's task struct, in machine words. */
export const TASK = { pid: 0, name: 1, bp: 2, sp: 3, state: 4, mm: 5, cpu: 6, stack: 7, words: 8 } as const;

/** -EFAULT, what a careful read returns when the address faults. */
export const EFAULT = -14;

/**
 * `show_state()` as sysrq-t runs it: for every task, a header line and a call trace
 * found by walking the saved frame-pointer chain. Every read of another task's stack
 * goes through `careful_read` (the kernel's probe_kernel_read): a bad frame pointer
 * makes it fault, the #PF handler finds the faulting instruction in the exception
 * table and resumes at the fixup, and the walk stops with "<bad frame>".
 *
 * The loop keeps its task cursor in a stack slot, as compiled C does for a variable
 * live across calls; that slot is what a nested NMI overwrites under the pre-3.3 entry.
 */
export function emitShowState(ctx: BuildContext): void {
  const { a, isa } = ctx;
  const { ax, cx, di, si } = isa;
  const word = isa.word;

  // careful_read(di = address, si = destination) -> ax = 0 or -EFAULT
  a.label('careful_read');
  a.push(cx);
  a.label('careful_read_insn');
  a.mov(cx, word(di));
  a.mov(word(si), cx);
  a.xor(isa.eax, isa.eax);
  a.label('.Lcareful_out');
  a.pop(cx);
  a.ret();
  a.label('careful_read_fixup');
  a.mov(ax, EFAULT);
  a.jmp('.Lcareful_out');
  emitSchedShowTask(ctx);
  emitShowStateLoop(ctx);
}

function emitSchedShowTask(ctx: BuildContext): void {
  const { a, isa } = ctx;
  const { ax, bx, cx, di, si, sp, bp, w } = isa;
  const word = isa.word;
  const abs = (name: string): bigint => isa.abs(ctx.d(name));
  // sched_show_task(di = task)
  a.label('sched_show_task');
  a.push(bx).push(bp).push(cx).push(di).push(si);
  a.sub(sp, w);
  a.mov(bx, di);
  a.mov(di, imm(abs('str_task')));
  a.call('puts');
  a.mov(di, word(bx, TASK.name * w));
  a.call('puts');
  a.mov(di, imm(abs('str_pid')));
  a.call('puts');
  a.mov(di, word(bx, TASK.pid * w));
  a.call('put_dec');
  a.call('put_nl');
  a.mov(bp, word(bx, TASK.bp * w));
  a.mov(cx, 6);
  a.label('.Lframe');
  a.test(bp, bp);
  a.jz('.Lframe_end');
  a.lea(di, isa.word(bp, w));
  a.mov(si, sp);
  a.call('careful_read');
  a.test(ax, ax);
  a.jnz('.Lframe_bad');
  a.mov(di, imm(abs('str_frame')));
  a.call('puts');
  a.mov(di, word(sp));
  a.call('put_hex');
  a.mov(di, imm(abs('str_frame_end')));
  a.call('puts');
  a.mov(di, bp);
  a.mov(si, sp);
  a.call('careful_read');
  a.test(ax, ax);
  a.jnz('.Lframe_bad');
  a.mov(bp, word(sp));
  a.sub(cx, 1);
  a.jnz('.Lframe');
  a.jmp('.Lframe_end');
  a.label('.Lframe_bad');
  a.mov(di, imm(abs('str_bad_frame')));
  a.call('puts');
  a.label('.Lframe_end');
  a.add(sp, w);
  a.pop(si).pop(di).pop(cx).pop(bp).pop(bx);
  a.ret();
}

function emitShowStateLoop(ctx: BuildContext): void {
  const { a, isa } = ctx;
  const { bx, di, si, sp, bp, w } = isa;
  const word = isa.word;
  const abs = (name: string): bigint => isa.abs(ctx.d(name));
  // show_state(): header, every task, footer.
  a.label('show_state');
  a.push(bx).push(bp).push(si).push(di);
  a.sub(sp, w);
  a.mov(di, imm(abs('str_show_state')));
  a.call('puts');
  a.mov(word(sp), 0);
  a.label('.Lshow_loop');
  a.mov(bx, word(sp));
  a.cmp(bx, word(abs('nr_tasks')));
  a.jae('.Lshow_done');
  a.mov(di, word({ index: bx, scale: w, disp: abs('task_table') }));
  a.call('sched_show_task');
  a.add(word(sp), 1);
  a.jmp('.Lshow_loop');
  a.label('.Lshow_done');
  a.mov(di, imm(abs('str_show_state_end')));
  a.call('puts');
  a.add(sp, w);
  a.pop(di).pop(si).pop(bp).pop(bx);
  a.ret();
}
