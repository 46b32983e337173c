import { imm, qword, dword, reg } from '@kernsim/cpu-core';
import type { NmiEntry } from '@kernsim/kernel';
import { PERCPU, PT_REGS_64, SEL64 } from '@kernsim/kernel/entry-kit';
import type { BuildContext, DoNmiLabels } from '@kernsim/kernel/entry-kit';
import { emitNmiHandlerCall } from './nmi-handler-call.js';

/** 3.3's EXCEPTION_STKSZ: the NMI stack is one 4 KiB page. */
export const EXCEPTION_STKSZ = 4096;

/**
 * The parts of the 3.3 NMI series that live in the x86_64 entry and do_nmi, each of which
 * can be left out to show what it protects against (all are in by default).
 */
export interface NestedEntryOptions {
  /** The on-stack "NMI executing" variable check (`cmpl $1, -8(%rsp)`): catches a nested NMI whose first NMI is off the NMI stack (in a #BP handler on the debug stack). */
  readonly executingVariable?: boolean;
  /** The interrupted-RSP-inside-the-NMI-stack check (`test_in_nmi`): catches a nested NMI after the first cleared the variable, before its iretq. */
  readonly stackCheck?: boolean;
  /** Leaving the first NMI alone while it is between repeat_nmi and end_repeat_nmi (it is about to rerun the handler). */
  readonly repeatGuard?: boolean;
  /** repeat_nmi re-arming the variable (`movq $1, 5*8(%rsp)`) before it reruns the handler. */
  readonly rearmInRepeat?: boolean;
  /** repeat_nmi copying the saved frame back over the copied one (the third copy of the frame). */
  readonly restoreCopiedFrame?: boolean;
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
  const parts = resolveParts(options);
  const debugStackFix = parts.debugStackFix;
  const missing = (Object.keys(parts) as (keyof Parts)[]).filter((k) => !parts[k]);
  return {
    id: ['nested', ...missing.map((m) => `no-${PART_SLUG[m]}`)].join('-'),
    arch: 'x86_64',
    title:
      missing.length === 0
        ? 'x86_64 3.3: NMI-executing variable, saved and copied frames, repeat_nmi'
        : `x86_64 3.3 entry without ${missing.map((m) => PART_SLUG[m].replace(/-/g, ' ')).join(', ')}`,
    // A nested NMI returns through its own hardware frame; a first one through the copied frame.
    exitFrameOffsets: [0, -12 * 8],
    trampolines: ['repeat_nmi'],
    mergeLabels: ['nested_nmi'],
    repeatLabels: [{ at: 'repeat_nmi' }],
    landmarks: ['nmi', 'nested_nmi', 'nested_nmi_out', 'first_nmi', 'restart_nmi', 'nmi_restore', 'repeat_nmi', ...(debugStackFix ? ['debug_stack_set_zero', 'debug_stack_reset'] : [])],
    debugStackFix,
    emit: (ctx) => {
      emitNested(ctx, parts);
    },
    doNmiHooks: debugStackFix ? { preprocess: debugStackPreprocess, postprocess: debugStackPostprocess } : {},
  };
}

type Parts = Required<NestedEntryOptions>;

const PART_SLUG: Readonly<Record<keyof Parts, string>> = {
  executingVariable: 'executing-variable',
  stackCheck: 'stack-check',
  repeatGuard: 'repeat-guard',
  rearmInRepeat: 'repeat-rearm',
  restoreCopiedFrame: 'frame-restore',
  debugStackFix: 'debug-stack-fix',
};

function resolveParts(o: NestedEntryOptions): Parts {
  return {
    executingVariable: o.executingVariable ?? true,
    stackCheck: o.stackCheck ?? true,
    repeatGuard: o.repeatGuard ?? true,
    rearmInRepeat: o.rearmInRepeat ?? true,
    restoreCopiedFrame: o.restoreCopiedFrame ?? true,
    debugStackFix: o.debugStackFix ?? true,
  };
}

function emitNested(ctx: BuildContext, parts: Parts): void {
  const { a } = ctx;
  const { rdx, rsp } = reg;
  a.label('nmi');
  // Use %rdx as the temp variable throughout.
  a.push(rdx);
  // Not from kernel CS: user mode, definitely not nested.
  a.cmp(dword(rsp, 16), SEL64.kernelCs);
  a.jne('first_nmi');
  // The "NMI executing" variable, just below the rdx slot.
  if (parts.executingVariable) {
    a.cmp(dword(rsp, -8), 1);
    a.je('nested_nmi');
  }
  // test_in_nmi rdx, 4*8(%rsp): is the interrupted RSP inside this NMI stack?
  if (parts.stackCheck) {
    a.lea(rdx, qword(rsp, 6 * 8));
    a.cmp(qword(rsp, 4 * 8), rdx);
    a.ja('first_nmi');
    a.sub(rdx, EXCEPTION_STKSZ);
    a.cmp(qword(rsp, 4 * 8), rdx);
    a.jb('first_nmi');
    a.jmp('nested_nmi');
  } else {
    a.jmp('first_nmi');
  }

  a.label('nested_nmi');
  // Leave it alone if the first NMI is already in repeat_nmi: it is about to rerun the handler.
  if (parts.repeatGuard) {
    a.mov(rdx, imm('repeat_nmi'));
    a.cmp(rdx, qword(rsp, 8));
    a.ja('.Lnested_redirect');
    a.mov(rdx, imm('end_repeat_nmi'));
    a.cmp(rdx, qword(rsp, 8));
    a.ja('nested_nmi_out');
  }
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
  emitNmiHandlerCall(ctx);
  // Clear the "NMI executing" variable, then return through the copied frame.
  a.label('nmi_clear_executing');
  a.mov(qword(rsp, 10 * 8), 0);
  a.label('nmi_exit_jmp');
  a.jmp('irq_return');
  emitRepeatNmi(ctx, parts);
}

/** repeat_nmi: rerun the handler for the NMIs merged into this one (the copied frame pointed here). */
function emitRepeatNmi(ctx: BuildContext, parts: Parts): void {
  const { a } = ctx;
  const { rsp } = reg;
  a.label('repeat_nmi');
  if (parts.rearmInRepeat) a.mov(qword(rsp, 5 * 8), 1);
  if (parts.restoreCopiedFrame) {
    // Copy the saved frame back over the copied one, SS first (a nested NMI may land between pushes).
    a.push(qword(rsp, 4 * 8));
    a.push(qword(rsp, 4 * 8));
    a.label('repeat_nmi_copy_rflags');
    a.times(3, () => a.push(qword(rsp, 4 * 8)));
  } else {
    // Only two copies: the copied frame (still pointing at repeat_nmi) is reused as it is.
    a.sub(rsp, 5 * 8);
  }
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
