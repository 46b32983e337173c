/**
 * The per-CPU variables, in machine words from the start of a CPU's per-CPU area
 * (reached through `%gs` on x86_64 and `%fs` on i386). Byte offset = index * word size.
 */
export const PERCPU = {
  /** The area's own address (`this_cpu_off`). */
  self: 0,
  currentTask: 1,
  /** Top of the current task's kernel stack (`kernel_stack`, loaded by the syscall entry). */
  kernelStack: 2,
  /** The user stack pointer while in a system call (`old_rsp`). */
  oldRsp: 3,
  cpuNumber: 4,
  /** `irq_stat.__nmi_count`: NMI handler runs. */
  nmiCount: 5,
  /** `nmi_stats.normal` and `nmi_stats.unknown`. */
  nmiNormal: 6,
  nmiUnknown: 7,
  /** x86_64 3.3: set while the NMI IDT (no IST for #DB/#BP) is loaded. */
  updateDebugStack: 8,
  debugStackUsage: 9,
  /** Top of this CPU's debug (#DB/#BP) IST stack. */
  debugStackAddr: 10,
  /** The hard-lockup detector's view of the timer: interrupts counted, and the count it last saw. */
  hrtimerInterrupts: 11,
  hrtimerInterruptsSaved: 12,
  hardWatchdogWarn: 13,
  /**
   * Stands for the PMU's overflow status register: the hardware model sets bit 0
   * (watchdog counter) or bit 1 (sampling counter) before it raises the counter's NMI;
   * the handlers read and clear their bit.
   */
  pmuStatus: 14,
  perfSamples: 15,
  /** The sampler's vmalloc'd buffer and its write index. */
  perfBuffer: 16,
  perfHead: 17,
  /** i386 3.3: NMI_NOT_RUNNING / NMI_EXECUTING / NMI_LATCHED. */
  nmiState: 18,
  kprobeHits: 19,
  syscalls: 20,
  /** Watchdog NMIs that found a lockup (and dumped). */
  lockups: 21,
  /** Top of this CPU's NMI stack (x86_64), for diagrams and checks. */
  nmiStackTop: 22,
  /** Deepest NMI handler nesting seen on this CPU (counted by the handler chain). */
  nmiDepth: 23,
  nmiDepthMax: 24,
  /** The vmalloc address the sampler writes next (scratch for traces). */
  perfLastAddr: 25,
  /**
   * The NMI bits of preempt_count (`in_nmi()`): raised by nmi_enter and lowered by nmi_exit
   * in do_nmi. Read by the exception exits of Desnoyers's 2010 design (ret-from-fault).
   */
  inNmi: 26,
  /** Torvalds's 2010 design: the per-CPU pointer to the running NMI's return frame (0 when none runs). */
  nmiFrame: 27,
} as const;

export type PercpuField = keyof typeof PERCPU;

/** Bits of the PMU status word. */
export const PMU = { watchdog: 1, sampler: 2 } as const;

/** i386 `enum nmi_states`. */
export const NMI_STATE = { notRunning: 0, executing: 1, latched: 2 } as const;
