import { imm, qword, dword, reg } from '@kernsim/cpu-core';
import { PERCPU, PT_REGS_64, SEL64, restoreAll64 } from '@kernsim/kernel';
import type { BuildContext, DoNmiLabels, NmiEntry } from '@kernsim/kernel';

/** 3.3's EXCEPTION_STKSZ: the NMI stack is one 4 KiB page. */
export const EXCEPTION_STKSZ = 4096;

export interface NestedEntryOptions {
  /**
   * Include the 3.3 debug-stack fix in do_nmi (default true): when the NMI interrupted
   * code running on the #DB/#BP IST stack, load the NMI IDT (no IST for #DB/#BP) until
   * the NMI ends, so a breakpoint in the handler does not restart that stack at its top.
   */
  readonly debugStackFix?: boolean;
}

/**
 * The 3.3 x86_64 NMI entry (arch/x86/kernel/entry_64.S, ENTRY(nmi) to end_repeat_nmi),
 * instruction by instruction. Stack, from the IST top down:
 * hardware frame (5) | rdx temp | "NMI executing" | saved frame (5) | copied frame (5) | pt_regs.
 */
export function nestedEntry(options: NestedEntryOptions = {}): NmiEntry {
  const debugStackFix = options.debugStackFix ?? true;
  return {
    id: debugStackFix ? 'nested' : 'nested-no-debug-stack-fix',
    arch: 'x86_64',
    title: debugStackFix
      ? 'x86_64 3.3: NMI-executing variable, saved and copied frames, repeat_nmi'
      : 'x86_64 3.3 entry without the debug-stack part of the series',
    // A nested NMI returns through its own hardware frame; a first one through the copied frame.
    exitFrameOffsets: [0, -12 * 8],
    trampolines: ['repeat_nmi'],
    landmarks: ['nmi', 'nested_nmi', 'nested_nmi_out', 'first_nmi', 'restart_nmi', 'nmi_restore', 'repeat_nmi', ...(debugStackFix ? ['debug_stack_set_zero', 'debug_stack_reset'] : [])],
    debugStackFix,
    emit: emitNested,
    doNmiHooks: debugStackFix ? { preprocess: debugStackPreprocess, postprocess: debugStackPostprocess } : {},
  };
}

function emitNested(ctx: BuildContext): void {
  const { a } = ctx;
  const { rdx, rsp, rdi, rsi } = reg;
  a.label('nmi');
  // Use %rdx as the temp variable throughout.
  a.push(rdx);
  // Not from kernel CS: user mode, definitely not nested.
  a.cmp(dword(rsp, 16), SEL64.kernelCs);
  a.jne('first_nmi');
  // The "NMI executing" variable, just below the rdx slot.
  a.cmp(dword(rsp, -8), 1);
  a.je('nested_nmi');
  // test_in_nmi rdx, 4*8(%rsp): is the interrupted RSP inside this NMI stack?
  a.lea(rdx, qword(rsp, 6 * 8));
  a.cmp(qword(rsp, 4 * 8), rdx);
  a.ja('first_nmi');
  a.sub(rdx, EXCEPTION_STKSZ);
  a.cmp(qword(rsp, 4 * 8), rdx);
  a.jb('first_nmi');
  a.jmp('nested_nmi');

  a.label('nested_nmi');
  // Leave it alone if the first NMI is already in repeat_nmi: it is about to rerun the handler.
  a.mov(rdx, imm('repeat_nmi'));
  a.cmp(rdx, qword(rsp, 8));
  a.ja('.Lnested_redirect');
  a.mov(rdx, imm('end_repeat_nmi'));
  a.cmp(rdx, qword(rsp, 8));
  a.ja('nested_nmi_out');
  a.label('.Lnested_redirect');
  // Point the first NMI's copied frame at repeat_nmi.
  a.lea(rdx, qword(rsp, -6 * 8));
  a.mov(rsp, rdx);
  a.push(SEL64.kernelDs);
  a.push(rdx);
  a.pushfq();
  a.push(SEL64.kernelCs);
  a.push(imm('repeat_nmi'));
  a.add(rsp, 11 * 8);
  a.label('nested_nmi_out');
  a.pop(rdx);
  a.label('nested_nmi_iret');
  a.iretq();

  a.label('first_nmi');
  a.push(1);
  a.times(5, () => a.push(qword(rsp, 6 * 8)));
  a.times(5, () => a.push(qword(rsp, 4 * 8)));
  // rdx stays in its slot for nested NMIs to clobber; reload the real value from it.
  a.mov(rdx, qword(rsp, 11 * 8));

  a.label('restart_nmi');
  a.push(-1);
  a.sub(rsp, PT_REGS_64.origAx);
  a.call('save_paranoid');
  a.mov(rdi, rsp);
  a.mov(rsi, -1);
  a.call('do_nmi');
  a.test(reg.ebx, reg.ebx);
  a.jnz('nmi_restore');
  a.label('nmi_swapgs');
  a.swapgs();
  a.label('nmi_restore');
  restoreAll64(ctx);
  // Clear the "NMI executing" variable, then return through the copied frame.
  a.label('nmi_clear_executing');
  a.mov(qword(rsp, 10 * 8), 0);
  a.label('nmi_exit_jmp');
  a.jmp('irq_return');

  a.label('repeat_nmi');
  a.mov(qword(rsp, 5 * 8), 1);
  a.times(5, () => a.push(qword(rsp, 4 * 8)));
  a.jmp('restart_nmi');
  a.label('end_repeat_nmi');
}

/** nmi_nesting_preprocess for x86_64 (nmi.c): bx = regs. */
function debugStackPreprocess(ctx: BuildContext, labels: DoNmiLabels): void {
  const { a } = ctx;
  const { rax, rbx } = reg;
  const pc = (f: keyof typeof PERCPU): ReturnType<typeof qword.gs> => qword.gs(PERCPU[f] * 8);
  // is_debug_stack(regs->sp): debug_stack_usage, or sp within (top - DEBUG_STKSZ, top].
  a.cmp(pc('debugStackUsage'), 0);
  a.jne('.Ldebug_stack_set_zero');
  a.mov(rax, qword(rbx, PT_REGS_64.sp));
  a.cmp(rax, pc('debugStackAddr'));
  a.ja('.Lnot_debug_stack');
  a.add(rax, 2 * EXCEPTION_STKSZ);
  a.cmp(rax, pc('debugStackAddr'));
  a.jbe('.Lnot_debug_stack');
  a.label('.Ldebug_stack_set_zero');
  a.label('debug_stack_set_zero');
  a.call('load_nmi_idt');
  a.mov(pc('updateDebugStack'), 1);
  a.label('.Lnot_debug_stack');
  a.label(labels.restart);
}

/** nmi_nesting_postprocess for x86_64: 3.3 reloads the normal IDT (and, as in 3.3, leaves the flag set). */
function debugStackPostprocess(ctx: BuildContext): void {
  const { a } = ctx;
  const pc = (f: keyof typeof PERCPU): ReturnType<typeof qword.gs> => qword.gs(PERCPU[f] * 8);
  a.cmp(pc('updateDebugStack'), 0);
  a.je('.Lno_debug_stack_reset');
  a.label('debug_stack_reset');
  a.call('load_normal_idt');
  a.label('.Lno_debug_stack_reset');
}
