import type { Arch } from '@kernsim/cpu-core';

/**
 * Where the lean SMP kernel (the one the patching figures boot on 1 to 4096 CPUs) puts
 * things. x86_64 keeps everything in the top 2 GiB (the
 * kernel image's `__START_KERNEL_map` range) so addresses fit sign-extended 32-bit fields.
 */
export interface SmpLayout {
  readonly text: bigint;
  readonly textSize: number;
  readonly data: bigint;
  readonly dataSize: number;
  /** The sorted patch table (`text_poke_loc` entries) and the kprobe table. */
  readonly table: bigint;
  readonly kprobeTable: bigint;
  /** Per-CPU statistics, `STAT.size` bytes per CPU: work done, stall, int3 hits, IPIs taken. */
  readonly work: bigint;
  /** Out-of-line instruction slots and optimized-kprobe detours. */
  readonly slots: bigint;
  /** CPU n's kernel stack top at `stacks + (n + 1) * stackSize`. */
  readonly stacks: bigint;
  readonly stackSize: number;
  /** CPU n's per-CPU area at `percpu + n * percpuStride` (the `%gs`/`%fs` base). */
  readonly percpu: bigint;
  readonly percpuStride: number;
}

const X86_64: SmpLayout = {
  text: 0xffffffff81000000n,
  textSize: 0x40000,
  data: 0xffffffff81400000n,
  dataSize: 0x1000,
  table: 0xffffffff81401000n,
  kprobeTable: 0xffffffff81411000n,
  work: 0xffffffff81420000n,
  slots: 0xffffffff81300000n,
  stacks: 0xffffffff82000000n,
  stackSize: 0x800,
  percpu: 0xffffffff81800000n,
  percpuStride: 0x100,
};

/** i386 maps all physical memory at PAGE_OFFSET (0xc0000000), so the image sits above it. */
const I386: SmpLayout = {
  text: 0xe1000000n,
  textSize: 0x40000,
  data: 0xe1400000n,
  dataSize: 0x1000,
  table: 0xe1401000n,
  kprobeTable: 0xe1411000n,
  work: 0xe1420000n,
  slots: 0xe1300000n,
  stacks: 0xe2000000n,
  stackSize: 0x800,
  percpu: 0xe1800000n,
  percpuStride: 0x100,
};

export function smpLayoutOf(arch: Arch): SmpLayout {
  return arch === 'x86_64' ? X86_64 : I386;
}

/** Control words in the data page, one 8-byte slot each (a 32-bit kernel uses the low half). */
export const VAR = {
  /** `bp_patching.nr_entries != 0`: the #BP handler consults the patch table. */
  bpInProgress: 0,
  bpVec: 1,
  bpNr: 2,
  /** CPUs that still have to run `do_sync_core` in the current `on_each_cpu` round. */
  syncPending: 3,
  /** `struct stop_machine_data`: state, thread_ack, num_threads. */
  smState: 4,
  smAck: 5,
  smThreads: 6,
  /** `stop_machine_first` and `wrote_text` of `stop_machine_text_poke`. */
  smFirst: 7,
  wroteText: 8,
  /**
   * Machine-wide counts the figures' workloads no longer use (they count per CPU, in the
   * statistics blocks, as 3.3's tracer does); kept so the words after them keep their
   * addresses. `traceCalls` still counts `installPatcher`'s tracer calls.
   */
  traceCalls: 9,
  /** int3 traps resolved through the patch table. */
  bpHits: 10,
  kprobeHits: 11,
  filtered: 12,
  patchStarted: 13,
  patchDone: 14,
  gpCount: 15,
  gpLastRip: 16,
  nmiCount: 17,
  onlineCpus: 18,
  /** 3.3 ftrace's NMI protocol: modifying_code, nmi_running, mod_code_ip, mod_code_newcode, nmi_update_count. */
  modifyingCode: 19,
  nmiRunning: 20,
  modCodeIp: 21,
  modCodeNew: 22,
  nmiUpdateCount: 23,
  kprobeNr: 24,
  kprobeVec: 25,
  /** int3 traps nobody claimed: the kernel would die here. */
  strayInt3: 26,
  /**
   * Optimized kprobes replace several instructions: before their tails are written no CPU
   * may be inside those bytes or in a probe's out-of-line slot (3.3 waits with
   * synchronize_sched()). When `quiesceOn` is set, each sync IPI handler sets `quiesceBusy`
   * if it interrupted such a CPU, and the patcher syncs again until none is.
   */
  quiesceOn: 27,
  quiesceBusy: 28,
  /** Rounds of `on_each_cpu` the patcher started. */
  syncRounds: 29,
  /** Unused since the calls are counted per CPU (`STAT.calls`); kept for the addresses after it. */
  kprobedCalls: 30,
  /** Words the kernel's own code reads (the `mov %gs:0xc880,%rax` stand-in). */
  scratch: 31,
  /** IPIs the patching code sent, one per destination (an `on_each_cpu()` counts n-1). */
  ipisSent: 32,
  /** Time stamps (TSC) when the patch routine started and returned. */
  patchStartTsc: 33,
  patchEndTsc: 34,
  /** End of the slots of probes being optimized: a CPU in [slots, slotsEnd) will jump back into bytes the jmp replaces. */
  slotsEnd: 35,
  /** `cpu_stop_done.nr_todo`: stoppers that have not finished their stop_machine work yet. */
  smTodo: 36,
  /** The entries `stop_machine_text_poke` writes (3.3 jump labels: one site per stop_machine). */
  smVec: 37,
  smNr: 38,
  /**
   * TSC stamps of the last stop_machine, for its cost terms: the caller starts and ends
   * queueing the stoppers' work (the wake-ups), the last CPU acknowledges PREPARE (every
   * stopper has joined).
   */
  smQueueStartTsc: 39,
  smQueueEndTsc: 40,
  smJoinedTsc: 41,
  /**
   * The site whose bytes were not the expected old ones when a patcher compared them before
   * writing (3.3 `ftrace_modify_code`'s -EINVAL, 3.13 `add_break`'s): `ftrace_bug()`'s ip.
   */
  modifyFailed: 42,
  /** BUG()s taken (`ud2`, e.g. text_poke's read-back finding other bytes than it wrote) and where the last one was. */
  bugCount: 43,
  bugLastRip: 44,
  /**
   * `wait_for_completion()` of stop_machine's caller: set while it sleeps; the stopper whose
   * `atomic_dec_and_test(&nr_todo)` hits zero wakes the CPU named in `smCaller`.
   */
  smWaiting: 45,
  smCaller: 46,
  /**
   * `stop_machine(fn, data, cpus)`'s fn (an address) and whether every CPU runs it
   * (`cpu_online_mask`, text_poke_smp) or only the first online CPU (`cpus == NULL`, ftrace).
   */
  smFn: 47,
  smActiveAll: 48,
} as const;

export type VarName = keyof typeof VAR;

export function varAddress(layout: SmpLayout, name: VarName): bigint {
  return layout.data + BigInt(VAR[name] * 8);
}

/** A kprobe-table entry: probe address, out-of-line slot, pre-handler, boost state. */
export const KPROBE_ENTRY = {
  size: 32,
  shift: 5,
  addr: 0,
  slot: 8,
  handler: 16,
  /** `KPROBE_BOOST`: whether a hit jumps back from the slot or single-steps it with TF. */
  boost: 24,
} as const;

/**
 * 3.3's `ainsn.boostable`, as a word of the kprobe entry: `never` single-steps every hit
 * (CONFIG_PREEMPT kernels, or a probe with a post-handler), `boosted` runs the slot's copy and
 * its jump back without a single step, `afterStep` is 3.3's `boostable == 0`: the first hit
 * single-steps and `resume_execution()` then boosts the probe.
 */
export const KPROBE_BOOST = { never: 0, boosted: 1, afterStep: 2 } as const;

export const SM_STATE = { none: 0, prepare: 1, disableIrq: 2, run: 3, exit: 4 } as const;

/** 3.3 ftrace's MOD_CODE_WRITE_FLAG (bit 31 of nmi_running). */
export const MOD_CODE_WRITE_FLAG = 0x80000000;

/** Per-CPU statistics kept by the machine code itself (indexed by the x2APIC id). */
export const STAT = {
  size: 128,
  shift: 7,
  /** Iterations of the CPU's own work loop. */
  work: 0,
  /** TSC cycles spent in the patch's IPI handlers, stopper loop and int3 handler. */
  stall: 8,
  int3: 16,
  ipis: 24,
  /** Calls that reached the user's code: the tracer, the static key's branch, the probe handler. */
  traced: 32,
  /** Depth of NMI handlers running on this CPU. */
  inNmi: 40,
  /** int3 traps this CPU took inside its NMI handler (whose iret then unblocks NMIs). */
  int3InNmi: 48,
  /**
   * Dword: the stopper's queued work (`cpu_stopper.works` non-empty). Written by the CPU
   * that queues it, so the queueing pays for this CPU's line, as 3.3's spin_lock on the
   * target's `cpu_stopper` does.
   */
  stopWork: 56,
  /** Dword: TIF_NEED_RESCHED, set by this CPU's reschedule IPI handler; its next schedule point acts on it. */
  needResched: 60,
  /**
   * `kprobe_ctlblk`: the kprobe this CPU is single-stepping (its table entry, 0 when none)
   * and the flags' TF|IF the int3 saved (`kprobe_saved_flags`), which the #DB handler restores.
   */
  kprobeCur: 64,
  kprobeFlags: 72,
  /** Calls of the patched functions this CPU made (the kprobe user counts them, to check one hit per call). */
  calls: 80,
} as const;
