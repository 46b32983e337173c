import type { Arch } from '@kernsim/cpu-core';
import type { KprobeBoost } from '@kernsim/kernel/smp';
import type { UserKind } from './code/functions.js';
import type { BpMode } from './code/patch-table.js';
import { TextPatchingError } from './errors.js';

export type PatchMethod = 'direct' | 'stop-machine' | 'breakpoint';
export type PatchUser = UserKind;

export interface PatchConfig {
  readonly arch?: Arch;
  /** 1 to 4096 (default 2). CPU 0 patches; the others run the patched code in a loop. */
  readonly cpus?: number;
  readonly method: PatchMethod;
  readonly user?: PatchUser;
  /** `on` (default): nop to call/jmp (tracing on, key enabled, probe optimized); `off`: back to the nop (ftrace, static-key). */
  readonly direction?: 'on' | 'off';
  /** Sites patched in one go (default 1). */
  readonly sites?: number;
  /** Breakpoint method: all sites with the same three syncs (`batch`, default) or three syncs per site (`each`). */
  readonly batching?: 'batch' | 'each';
  /** Breakpoint method: what a CPU that hits a site's int3 does (default `skip`, the article's). */
  readonly bpMode?: BpMode;
  /** Work-loop iterations CPU 0 runs before it starts patching (default 2). */
  readonly startAfter?: number;
  /** One CPU spends this many cycles with interrupts off from the start (it runs no patched code meanwhile). */
  readonly irqOff?: { readonly cpu: number; readonly cycles: number };
  /** Inject an NMI at `cpu` once `afterCycles` have passed on CPU 0 since the patch started. */
  readonly nmi?: { readonly cpu: number; readonly afterCycles: number };
  /** stop_machine: write through 3.3 ftrace's NMI protocol (do_ftrace_mod_code + ftrace_nmi_enter). */
  readonly ftraceNmiProtocol?: boolean;
  /**
   * Kprobes' boosting (3.3's `ainsn.boostable`): `afterStep` (default; 3.3 without
   * CONFIG_PREEMPT) single-steps a probe's first hit with TF and boosts it then, `never`
   * single-steps every hit (CONFIG_PREEMPT), `boosted` never single-steps.
   */
  readonly kprobeBoost?: KprobeBoost;
  /** Record what CPU 1 sees at site 0 (needs a trace; keep for small runs). */
  readonly observe?: boolean;
  /** Record what every CPU executes at every site, and every site's bytes at each sync (execute watches, no trace): `PatchResult.siteObservations`. */
  readonly observeSites?: boolean;
  /** Work-loop iterations every CPU runs after the patch is complete (default 2 per site). */
  readonly settle?: number;
  readonly seed?: number;
  /** Which CPU steps next: in turn (default) or seeded random, which varies the interleavings. */
  readonly scheduler?: 'round-robin' | 'random';
  /**
   * Round-robin: instructions each CPU runs per turn (default 1: every CPU advances in
   * lockstep, as parallel CPUs do). Larger turns simulate faster on many CPUs but stretch
   * waits (a spinning CPU burns its whole turn), so simulated times grow.
   */
  readonly quantum?: number;
  /**
   * The machine's cost model (cpu-core's `timing`): `modelled` (default) charges each
   * instruction, delivery, cache-line transfer and IPI what the hardware would; `flat`
   * charges one cycle an instruction, for tests that reason in instructions.
   */
  readonly timing?: 'flat' | 'modelled';
  /**
   * Safety net on simulated steps (default 60 million, or 400 × CPUs² when that is more:
   * lockstep runs grow with the square of the CPU count, and the breakpoint method at 1024
   * CPUs needs more than 60 million).
   */
  readonly maxSteps?: number;
}

/** A `PatchConfig` with every default filled in, as `PatchResult.config` reports it. */
export type ResolvedPatchConfig = Required<Omit<PatchConfig, 'irqOff' | 'nmi'>> & Pick<PatchConfig, 'irqOff' | 'nmi'>;

function isCount(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new TextPatchingError('KERNSIM_PATCH_BAD_OPTIONS', what);
}

/** Fills in the defaults and rejects what the model cannot run (`KERNSIM_PATCH_BAD_OPTIONS`). */
export function resolvePatchConfig(input: PatchConfig): ResolvedPatchConfig {
  const config = {
    arch: input.arch ?? 'x86_64',
    cpus: input.cpus ?? 2,
    method: input.method,
    user: input.user ?? 'ftrace',
    sites: input.sites ?? 1,
    direction: input.direction ?? 'on',
    batching: input.batching ?? 'batch',
    bpMode: input.bpMode ?? 'skip',
    startAfter: input.startAfter ?? 2,
    ftraceNmiProtocol: input.ftraceNmiProtocol ?? false,
    kprobeBoost: input.kprobeBoost ?? 'afterStep',
    observe: input.observe ?? false,
    observeSites: input.observeSites ?? false,
    settle: input.settle ?? 2 * (input.sites ?? 1),
    seed: input.seed ?? 1,
    scheduler: input.scheduler ?? 'round-robin',
    quantum: input.quantum ?? 1,
    timing: input.timing ?? 'modelled',
    maxSteps: input.maxSteps ?? Math.max(60_000_000, 400 * (input.cpus ?? 2) ** 2),
    ...(input.irqOff ? { irqOff: input.irqOff } : {}),
    ...(input.nmi ? { nmi: input.nmi } : {}),
  };
  check(['x86_64', 'i386'].includes(config.arch), `arch must be x86_64 or i386, got ${config.arch}`);
  check(Number.isInteger(config.cpus) && config.cpus >= 1 && config.cpus <= 4096, `cpus must be 1..4096, got ${String(config.cpus)}`);
  check(['direct', 'stop-machine', 'breakpoint'].includes(config.method), `method must be direct, stop-machine or breakpoint, got ${config.method}`);
  check(['ftrace', 'static-key', 'kprobe'].includes(config.user), `user must be ftrace, static-key or kprobe, got ${config.user}`);
  check(Number.isInteger(config.sites) && config.sites >= 1 && config.sites <= 1000, `sites must be 1..1000, got ${String(config.sites)}`);
  check(Number.isInteger(config.quantum) && config.quantum >= 1 && config.quantum <= 4096, `quantum must be 1..4096, got ${String(config.quantum)}`);
  check(['flat', 'modelled'].includes(config.timing), `timing must be flat or modelled, got ${config.timing}`);
  check(['on', 'off'].includes(config.direction), `direction must be on or off, got ${config.direction}`);
  check(['never', 'boosted', 'afterStep'].includes(config.kprobeBoost), `kprobeBoost must be never, boosted or afterStep, got ${config.kprobeBoost}`);
  check(['skip', 'handler', 'emulate'].includes(config.bpMode), `bpMode must be skip, handler or emulate, got ${config.bpMode}`);
  // Counts of iterations, cycles and steps: a NaN or a fraction reached BigInt as a RangeError, and a
  // negative startAfter ran the whole step budget (50 s) for a patch that never started.
  check(isCount(config.startAfter), `startAfter must be an integer 0 or more, got ${String(config.startAfter)}`);
  check(isCount(config.settle), `settle must be an integer 0 or more, got ${String(config.settle)}`);
  check(isCount(config.maxSteps) && config.maxSteps >= 1, `maxSteps must be a positive integer, got ${String(config.maxSteps)}`);
  if (config.irqOff) {
    check(Number.isInteger(config.irqOff.cpu) && config.irqOff.cpu > 0 && config.irqOff.cpu < config.cpus, `irqOff.cpu must be another CPU than 0, got ${String(config.irqOff.cpu)}`);
    check(isCount(config.irqOff.cycles), `irqOff.cycles must be an integer 0 or more, got ${String(config.irqOff.cycles)}`);
  }
  if (config.nmi) {
    check(Number.isInteger(config.nmi.cpu) && config.nmi.cpu >= 0 && config.nmi.cpu < config.cpus, `nmi.cpu must name a CPU, got ${String(config.nmi.cpu)}`);
    check(isCount(config.nmi.afterCycles), `nmi.afterCycles must be an integer 0 or more, got ${String(config.nmi.afterCycles)}`);
  }
  return config;
}

/**
 * The patch routine CPU 0 calls for a method. Under stop_machine 3.3's jump labels run one
 * stop_machine per site (`arch_jump_label_transform` → `text_poke_smp`), optimized kprobes
 * one for the batch (`text_poke_smp_batch`), ftrace one whose function only CPU 0 runs
 * (`stop_machine(__ftrace_modify_code)`).
 */
export function routineFor(method: PatchMethod, batching: 'batch' | 'each', user: PatchUser = 'ftrace'): string {
  if (method === 'direct') return 'patch_direct';
  if (method === 'stop-machine') return user === 'static-key' ? 'patch_stop_machine_each' : user === 'ftrace' ? 'patch_stop_machine_ftrace' : 'patch_stop_machine';
  return batching === 'batch' ? 'patch_breakpoint' : 'patch_breakpoint_each';
}
