import type { BuildContext } from './build-context.js';
import type { DoNmiHooks } from './code/nmi-chain.js';
import type { Arch } from '@kernsim/cpu-core';

/**
 * A pluggable NMI entry: the code at IDT vector 2 (label `nmi`) plus whatever it adds
 * to `do_nmi`. `@kernsim/nmi-x86_64` provides the pre-3.3 and 3.3 entries,
 * `@kernsim/nmi-i386` the i386 one with the nmi_state latch.
 */
export interface NmiEntry {
  readonly id: string;
  readonly arch: Arch;
  /** One line for reports. */
  readonly title: string;
  /** Emits the entry code; must define the label `nmi`. */
  emit(ctx: BuildContext): void;
  readonly doNmiHooks?: DoNmiHooks;
  /**
   * Where, relative to the address of the frame the CPU pushed when the NMI was
   * delivered, the iret that ends this NMI reads its frame (x86_64 3.3: the hardware
   * frame for a nested NMI, the copied frame for a first one).
   */
  readonly exitFrameOffsets: readonly number[];
  /** Labels an NMI exit may legitimately land on besides the interrupted context (3.3: repeat_nmi). */
  readonly trampolines: readonly string[];
  /**
   * Where the entry decides a delivered NMI is nested and folds it into the handler run
   * under way (3.3: `nested_nmi`; i386: `nmi_latched`). The scenario runner counts a merge
   * there, or a lost NMI when no other NMI is active on the CPU.
   */
  readonly mergeLabels?: readonly string[];
  /**
   * Where the handler is rerun for merged NMIs (3.3: `repeat_nmi`); with `after`, only
   * when the CPU comes there from that label (i386: `nmi_restart` after a failed
   * `nmi_cmpxchg`, not the first pass).
   */
  readonly repeatLabels?: readonly { readonly at: string; readonly after?: string }[];
  /** Labels of interest in traces and diagrams (first_nmi, nested_nmi, …), in code order. */
  readonly landmarks: readonly string[];
  /** Whether the 3.3 debug-stack fix (NMI IDT without IST for #DB/#BP) is in this entry. */
  readonly debugStackFix?: boolean;
  /**
   * How the x86_64 exception exits (error_exit, paranoid_exit) return: `iret` always (the
   * default, every kernel), or `ret-in-nmi`: while `in_nmi()` (PERCPU.inNmi) they pop the
   * frame by hand and `ret`, so NMIs stay blocked (Desnoyers's 2010 design).
   */
  readonly exceptionReturn?: 'iret' | 'ret-in-nmi';
  /** Some returns to an interrupted context are made with `ret`, not `iret` (observers must follow them too). */
  readonly returnsWithoutIret?: boolean;
  /** Code placed at the top of the x86_64 #GP entry, before its fatal path (Torvalds's faulting-iret design recognises the NMI's iret there). */
  readonly generalProtectionHook?: (ctx: BuildContext) => void;
}
