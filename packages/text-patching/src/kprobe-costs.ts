import { VECTOR, createMachine } from '@kernsim/cpu-core';
import type { Arch, Machine } from '@kernsim/cpu-core';
import { STAT, encodeKprobeTable, loadSmpKernel, smpMemoryMiB, varAddress } from '@kernsim/kernel/smp';
import type { KprobeBoost, VarName } from '@kernsim/kernel/smp';
import { buildImage } from './code/image.js';
import type { PatchImage } from './code/image.js';
import { cyclesToMicros } from './cost-curve.js';
import { TextPatchingError } from './errors.js';

/** The three ways a kprobe hit runs on x86 (3.3's `Documentation/kprobes.txt`, section 6.1). */
export type KprobeKind = 'int3' | 'boosted' | 'optimized';

export const KPROBE_KINDS: readonly KprobeKind[] = ['int3', 'boosted', 'optimized'];

export interface KprobeCostOptions {
  readonly arch?: Arch;
  readonly timing?: 'flat' | 'modelled';
  /** Probed calls measured per kind (default 64), after as many again to warm up. */
  readonly calls?: number;
}

export interface KprobeCostRow {
  readonly kind: KprobeKind;
  /** Cycles a probed call took beyond the same call without a probe, per hit. */
  readonly cyclesPerHit: number;
  /** The same at `CLOCK_GHZ`. */
  readonly microsPerHit: number;
  /** Pre-handler runs counted during the measured calls (one per call). */
  readonly hits: number;
  /** #DB single-step traps delivered during the measured calls. */
  readonly singleSteps: number;
  /** int3 traps delivered during the measured calls. */
  readonly int3Traps: number;
}

interface Measured {
  readonly cycles: number;
  readonly hits: number;
  readonly singleSteps: number;
  readonly int3Traps: number;
}

/**
 * Per-hit cost of a kprobe, from the simulation: one CPU calls a probed function back to
 * back (the workload loop of `runPatch`), once with the probe as each kind and once with no
 * probe at all; the difference in cycles over `calls` calls, per hit, is the probe's cost.
 * `int3`: the armed int3, the pre-handler, then a TF single step of the copied instruction
 * and the #DB that brings the CPU back (3.3 with CONFIG_PREEMPT, or before boosting);
 * `boosted`: the int3 and pre-handler, then the copy and its jump back, no single step;
 * `optimized`: the `jmp` to the detour, which calls the pre-handler and runs the copied
 * instructions.
 */
export function kprobeHitCosts(options: KprobeCostOptions = {}): KprobeCostRow[] {
  const arch = options.arch ?? 'x86_64';
  const timing = options.timing ?? 'modelled';
  const calls = options.calls ?? 64;
  if (!Number.isInteger(calls) || calls < 1 || calls > 100_000) {
    throw new TextPatchingError('KERNSIM_PATCH_BAD_OPTIONS', `calls must be 1..100000, got ${String(calls)}`);
  }
  const image = buildImage({ arch, user: 'kprobe', functions: 1, ftraceNmiProtocol: false, bpMode: 'skip', direction: 'on' });
  const bare = measure(image, timing, calls, 'none');
  return KPROBE_KINDS.map((kind) => {
    const probed = measure(image, timing, calls, kind);
    const cyclesPerHit = (probed.cycles - bare.cycles) / Math.max(1, probed.hits);
    return { kind, cyclesPerHit, microsPerHit: cyclesToMicros(cyclesPerHit), hits: probed.hits, singleSteps: probed.singleSteps, int3Traps: probed.int3Traps };
  });
}

function measure(image: PatchImage, timing: 'flat' | 'modelled', calls: number, kind: KprobeKind | 'none'): Measured {
  const { layout } = image;
  const m = createMachine({ arch: image.arch, timing, cpus: 1, seed: 1, memoryMiB: smpMemoryMiB(layout, 1) });
  loadSmpKernel(m, image, 1);
  const word = image.arch === 'x86_64' ? 8 : 4;
  const wr = (name: VarName, value: bigint): void => {
    m.write(varAddress(layout, name), word, value);
  };
  const probe = image.kprobes[0];
  const site = image.sites[0];
  if (probe === undefined || site === undefined) throw new TextPatchingError('KERNSIM_PATCH_BAD_SITE', 'the kprobe image has no optimizable probe');
  const boost: KprobeBoost = kind === 'int3' ? 'never' : 'boosted';
  m.writeBytes(layout.kprobeTable, encodeKprobeTable(image.kprobes, image.symbol('kprobe_pre_handler'), boost));
  wr('kprobeVec', layout.kprobeTable);
  wr('kprobeNr', 1n);
  wr('onlineCpus', 1n);
  // The image arms the probe (its first byte is int3); the slot holds the original instruction.
  if (kind === 'none') m.writeBytes(probe.address, m.readBytes(probe.slot, 1));
  if (kind === 'optimized') m.writeBytes(site.address, Uint8Array.from(site.newBytes));
  const regs = image.arch === 'x86_64' ? { bx: 'rbx', si: 'rsi' } as const : { bx: 'ebx', si: 'esi' } as const;
  m.start(0, { rip: image.symbol('workload'), rsp: layout.stacks + BigInt(layout.stackSize) - 64n, interrupts: true });
  m.cpus[0]!.setReg(regs.bx, layout.work);
  m.cpus[0]!.setReg(regs.si, 0n);
  runCalls(m, layout.work, calls); // warm-up: the first hit of a probe is not the steady state
  const before = sample(m, image);
  runCalls(m, layout.work, 2 * calls);
  const after = sample(m, image);
  return { cycles: after.cycles - before.cycles, hits: after.hits - before.hits, singleSteps: after.singleSteps - before.singleSteps, int3Traps: after.int3Traps - before.int3Traps };
}

function runCalls(m: Machine, work: bigint, until: number): void {
  const r = m.run({ steps: until * 2000, until: (mm) => Number(mm.read(work + BigInt(STAT.work), 4)) >= until });
  if (r.reason !== 'until') throw new TextPatchingError('KERNSIM_PATCH_DID_NOT_FINISH', `the probed calls did not complete (${r.reason}; CPU 0 ${m.cpus[0]!.status})`);
}

function sample(m: Machine, image: PatchImage): Measured {
  const cpu = m.cpus[0]!;
  return {
    cycles: cpu.cycles,
    // the pre-handler counts its runs in CPU 0's statistics block
    hits: Number(m.read(image.layout.work + BigInt(STAT.traced), 4)),
    singleSteps: cpu.counters.delivered[VECTOR.DB] ?? 0,
    int3Traps: cpu.counters.delivered[VECTOR.BP] ?? 0,
  };
}
