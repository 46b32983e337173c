import { qword } from '@kernsim/cpu-core';
import type { NmiEntry } from '@kernsim/kernel';
import { PERCPU } from '@kernsim/kernel/entry-kit';
import type { BuildContext, DoNmiLabels } from '@kernsim/kernel/entry-kit';
import { emitNmiHandlerCall } from './nmi-handler-call.js';

const inNmi = (): ReturnType<typeof qword.gs> => qword.gs(PERCPU.inNmi * 8);

/**
 * Mathieu Desnoyers's design (LKML, July 2010): leave the NMI entry as it was before 3.3 and
 * make the exception handlers NMI-aware instead. do_nmi raises `in_nmi()` (nmi_enter, the NMI
 * bits of preempt_count) and lowers it at the end (nmi_exit); the #PF and #BP exits check it and,
 * in NMI context, return with his INTERRUPT_RETURN_NMI_SAFE (restore RFLAGS, switch to the
 * interrupted stack, `ret`) instead of `iretq`, so the CPU never leaves NMI context early.
 * Everything else, the IST stacks included, is the kernel as it was.
 */
export function retFromFaultEntry(): NmiEntry {
  return {
    id: 'ret-from-fault',
    arch: 'x86_64',
    title: 'Desnoyers 2010: the pre-3.3 entry; #PF/#BP return to NMI context with ret, not iret',
    exitFrameOffsets: [0],
    trampolines: [],
    landmarks: ['nmi', 'nmi_enter', 'nmi_exit', 'nmi_swapgs', 'nmi_restore', 'error_exit_in_nmi', 'paranoid_exit_in_nmi', 'nmi_safe_return'],
    exceptionReturn: 'ret-in-nmi',
    returnsWithoutIret: true,
    doNmiHooks: { preprocess: nmiEnter, postprocess: nmiExit },
    emit(ctx: BuildContext): void {
      const { a } = ctx;
      a.label('nmi');
      emitNmiHandlerCall(ctx);
      a.jmp('irq_return');
    },
  };
}

/** nmi_enter(): preempt_count += NMI_OFFSET (do_nmi, %gs the kernel's). */
function nmiEnter(ctx: BuildContext, labels: DoNmiLabels): void {
  ctx.a.label('nmi_enter');
  ctx.a.add(inNmi(), 1);
  ctx.a.label(labels.restart);
}

/** nmi_exit(): preempt_count -= NMI_OFFSET. From here to the entry's iretq the exits would iret again. */
function nmiExit(ctx: BuildContext): void {
  ctx.a.label('nmi_exit');
  ctx.a.sub(inNmi(), 1);
}
