import { imm, MSR, qword, reg } from '@kernsim/cpu-core';
import type { NmiEntry } from '@kernsim/kernel';
import { emitReturnWithoutIret, PERCPU, PT_REGS_64 } from '@kernsim/kernel/entry-kit';
import type { BuildContext } from '@kernsim/kernel/entry-kit';
import { emitNmiHandlerCall } from './nmi-handler-call.js';

/**
 * The NMI stack of this design, from the IST top down: hardware frame (5) | scratch rdx, rcx,
 * rax (3, reused by every NMI's nesting check) | the real CS a nested NMI keeps (1) | the frame
 * copy the final iretq pops (5) | pt_regs. The copy's RIP slot is this far from the hardware frame's.
 */
export const FRAME_COPY_OFFSET = -(3 + 1 + 5) * 8;

const nmiFrame = PERCPU.nmiFrame * 8;

/**
 * Linus Torvalds's design from the July 2010 thread, as the article tells it: a per-CPU pointer
 * to the running NMI's return frame, reached through %gs. An NMI that finds it NULL is the first:
 * it keeps its frame where a nested NMI's hardware frame cannot land (a copy below the IST top),
 * points the per-CPU pointer at it, and runs the handler. An NMI that finds it set is nested (an
 * exception's iret inside the handler let it in): it changes the first NMI's frame so that frame's
 * iretq faults (a null CS, the real one kept beside it) and returns to the first NMI without iret,
 * so the CPU stays in NMI context. The first NMI's iretq then raises #GP, and the #GP handler,
 * seeing the NMI's own iretq fault, restores the CS and runs the NMI handler again: the faulting
 * iret is the software latch. %gs is found the paranoid way (MSR_GS_BASE, else
 * MSR_KERNEL_GS_BASE): the "bit of work" the article says validating %gs costs in an NMI.
 */
export function faultingIretEntry(): NmiEntry {
  return {
    id: 'faulting-iret',
    arch: 'x86_64',
    title: 'Torvalds 2010: per-CPU NMI frame pointer; a nested NMI makes the first one\'s iretq fault, #GP repeats the NMI',
    exitFrameOffsets: [FRAME_COPY_OFFSET],
    // The first NMI's iretq may legitimately fault into #GP (the repeat), instead of returning.
    trampolines: ['general_protection'],
    mergeLabels: ['nmi_nested'],
    repeatLabels: [{ at: 'nmi_repeat' }],
    landmarks: ['nmi', 'nmi_nested', 'nmi_mark_frame', 'nmi_nested_ret', 'nmi_first_frame', 'nmi_clear_frame', 'nmi_iret', 'nmi_repeat'],
    returnsWithoutIret: true,
    generalProtectionHook: emitIretFaultRepeat,
    emit: emitEntry,
  };
}

function emitEntry(ctx: BuildContext): void {
  const { a } = ctx;
  const { rax, rcx, rdx, rsp } = reg;
  a.label('nmi');
  a.push(rdx).push(rcx).push(rax);
  // %gs may still be the user's (an NMI in user mode, or in system_call before its swapgs).
  a.mov(reg.ecx, MSR.GS_BASE);
  a.rdmsr();
  a.test(reg.edx, reg.edx);
  a.js('.Lnmi_percpu');
  a.mov(reg.ecx, MSR.KERNEL_GS_BASE);
  a.rdmsr();
  a.label('.Lnmi_percpu');
  a.shl(rdx, 32);
  a.or(rdx, rax);
  a.cmp(qword(rdx, nmiFrame), 0);
  a.jne('nmi_nested');
  a.pop(rax).pop(rcx).pop(rdx);
  // Past the scratch words and the CS slot, copy the hardware frame: SS first.
  a.sub(rsp, 4 * 8);
  a.times(5, () => a.push(qword(rsp, 8 * 8)));
  // rsp = the frame copy, every register the interrupted context's (the #GP repeat comes here too).
  a.label('nmi_first_frame');
  emitNmiHandlerCall(ctx, {
    beforeCall: () => {
      a.lea(rax, qword(rsp, PT_REGS_64.ip));
      a.mov(qword.gs(nmiFrame), rax);
    },
    afterCall: () => {
      a.label('nmi_clear_frame');
      a.mov(qword.gs(nmiFrame), 0);
    },
  });
  a.label('nmi_iret');
  a.iretq();
  emitNested(ctx);
}

/** A nested NMI (rsp at the scratch words, rdx = this CPU's per-CPU area): mark the first NMI's frame, return to it without iret. */
function emitNested(ctx: BuildContext): void {
  const { a } = ctx;
  const { rax, rcx, rdx } = reg;
  a.label('nmi_nested');
  a.mov(rax, qword(rdx, nmiFrame));
  // Already marked by an earlier nested NMI: one repeat covers both, as the hardware latch would.
  a.cmp(qword(rax, 8), 0);
  a.je('.Lnmi_nested_out');
  a.mov(rcx, qword(rax, 8));
  a.mov(qword(rax, 5 * 8), rcx);
  a.label('nmi_mark_frame');
  a.mov(qword(rax, 8), 0);
  a.label('.Lnmi_nested_out');
  a.pop(rax).pop(rcx).pop(rdx);
  a.label('nmi_nested_ret');
  emitReturnWithoutIret(ctx);
}

/**
 * The top of the #GP entry (error code at rsp): if the faulting instruction is the NMI's iretq,
 * a nested NMI marked its frame. Put the real CS back and run the handler again on that frame,
 * with rsp where the iretq left it; anything else goes on to the fatal #GP path.
 */
function emitIretFaultRepeat(ctx: BuildContext): void {
  const { a } = ctx;
  const { rax, rcx, rsp } = reg;
  a.push(rax);
  a.mov(rax, imm('nmi_iret'));
  a.cmp(qword(rsp, 2 * 8), rax);
  a.pop(rax);
  a.jne('.Lgp_not_nmi_iret');
  a.label('nmi_repeat');
  a.push(rax).push(rcx);
  // rsp: rcx | rax | error code | RIP | CS | RFLAGS | RSP: the faulting iretq's RSP is the frame copy.
  a.mov(rax, qword(rsp, 6 * 8));
  a.mov(rcx, qword(rax, 5 * 8));
  a.mov(qword(rax, 8), rcx);
  a.pop(rcx).pop(rax);
  a.mov(rsp, qword(rsp, 4 * 8));
  a.jmp('nmi_first_frame');
  a.label('.Lgp_not_nmi_iret');
}
