import { dword, reg } from '@kernsim/cpu-core';
import type { NmiEntry } from '@kernsim/kernel';
import { NMI_STATE, PERCPU, restoreAll32, saveAll32 } from '@kernsim/kernel/entry-kit';
import type { BuildContext, DoNmiLabels } from '@kernsim/kernel/entry-kit';

const nmiState = (): ReturnType<typeof dword.fs> => dword.fs(PERCPU.nmiState * 4);

/**
 * The i386 NMI path of 3.3. The entry (entry_32.S `nmi_stack_correct`) runs on
 * whatever kernel stack the CPU was on; `do_nmi` is wrapped in 3.3's
 * nmi_nesting_preprocess / postprocess: the per-CPU `nmi_state` latch.
 *
 * Options: `latch: false` gives the i386 entry without the latch (before 3.3), where a
 * nested NMI simply runs the handler again on top of the first; `cmpxchg: false` keeps the
 * latch but leaves it with a plain test and store instead of 3.3's cmpxchg, so an NMI that
 * latches between the two is wiped out (lost).
 */
export function latchEntry(options: { readonly latch?: boolean; readonly cmpxchg?: boolean } = {}): NmiEntry {
  const latch = options.latch ?? true;
  const atomic = options.cmpxchg ?? true;
  const post = atomic ? latchPostprocess : latchPostprocessPlain;
  return {
    id: latch ? (atomic ? 'i386' : 'i386-no-cmpxchg') : 'i386-no-latch',
    arch: 'i386',
    title: latch ? `i386 3.3: NMI on the current stack, nmi_state latch ${atomic ? 'with cmpxchg' : 'left with a plain test and store'}` : 'i386 before 3.3: NMI on the current stack, no latch',
    exitFrameOffsets: [0],
    trampolines: [],
    ...(latch ? { mergeLabels: ['nmi_latched'], repeatLabels: [{ at: 'nmi_restart', after: 'nmi_cmpxchg' }] } : {}),
    landmarks: ['nmi', 'nmi_latched', 'nmi_restart', 'nmi_cmpxchg'],
    emit: emitEntry,
    doNmiHooks: latch ? { preprocess: latchPreprocess, postprocess: post } : {},
  };
}

function emitEntry(ctx: BuildContext): void {
  const { a } = ctx;
  a.label('nmi');
  // nmi_stack_correct: orig_eax, SAVE_ALL, do_nmi(pt_regs), restore_all_notrace.
  a.push(reg.eax);
  saveAll32(ctx);
  a.mov(reg.edi, reg.esp);
  a.call('do_nmi');
  restoreAll32(ctx);
  a.label('nmi_iret');
  a.iret();
}

/** if (nmi_state != NOT_RUNNING) { nmi_state = LATCHED; return; } nmi_restart: nmi_state = EXECUTING; */
function latchPreprocess(ctx: BuildContext, labels: DoNmiLabels): void {
  const { a } = ctx;
  a.cmp(nmiState(), NMI_STATE.notRunning);
  a.je(labels.restart);
  a.label('nmi_latched');
  a.mov(nmiState(), NMI_STATE.latched);
  a.jmp(labels.out);
  a.label(labels.restart);
  a.label('nmi_restart');
  a.mov(nmiState(), NMI_STATE.executing);
}

/** if (cmpxchg(&nmi_state, NMI_EXECUTING, NMI_NOT_RUNNING) != NMI_EXECUTING) goto nmi_restart; */
function latchPostprocess(ctx: BuildContext, labels: DoNmiLabels): void {
  const { a } = ctx;
  a.mov(reg.eax, NMI_STATE.executing);
  a.mov(reg.esi, NMI_STATE.notRunning);
  a.label('nmi_cmpxchg');
  a.lock().cmpxchg(nmiState(), reg.esi);
  a.jne(labels.restart);
}

/** The same exit without the atomic exchange: if (nmi_state != EXECUTING) goto nmi_restart; nmi_state = NOT_RUNNING; */
function latchPostprocessPlain(ctx: BuildContext, labels: DoNmiLabels): void {
  const { a } = ctx;
  a.label('nmi_latch_test');
  a.cmp(nmiState(), NMI_STATE.executing);
  a.jne(labels.restart);
  a.label('nmi_latch_clear');
  a.mov(nmiState(), NMI_STATE.notRunning);
}
