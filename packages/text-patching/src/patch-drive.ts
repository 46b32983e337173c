import { createMachine } from '@kernsim/cpu-core';
import type { Machine } from '@kernsim/cpu-core';
import { STAT, encodeKprobeTable, loadSmpKernel, smpMemoryMiB, varAddress } from '@kernsim/kernel/smp';
import type { VarName } from '@kernsim/kernel/smp';
import type { PatchImage } from './code/image.js';
import { encodePatchTable, sortSites } from './code/tables.js';
import type { ResolvedPatchConfig } from './patch-config.js';

/** The first patched function's bytes read from simulated memory at one point of the patch. */
export interface Listing {
  readonly when: string;
  readonly address: bigint;
  readonly bytes: Uint8Array;
}

const REG = { x86_64: { bx: 'rbx', si: 'rsi', di: 'rdi', cx: 'rcx' }, i386: { bx: 'ebx', si: 'esi', di: 'edi', cx: 'ecx' } } as const;

/** Rounds of every CPU stepping 64 times that a patcher may still finish in after a CPU died. */
const HUNG_ROUNDS = 64;

/**
 * Boots the lean SMP kernel with the image, fills the patch and kprobe tables and the
 * control words, and starts the CPUs: CPU 0 in `patcher_main` (with the routine in cx),
 * an interrupts-off CPU in `irqoff_main`, the others in `workload`.
 */
export function bootPatchMachine(config: ResolvedPatchConfig, image: PatchImage, routine: bigint): Machine {
  const { layout } = image;
  const m = createMachine({ arch: config.arch, timing: config.timing, cpus: config.cpus, seed: config.seed, memoryMiB: smpMemoryMiB(layout, config.cpus) });
  const sites = sortSites(image.sites);
  loadSmpKernel(m, image, config.cpus);
  const word = config.arch === 'x86_64' ? 8 : 4;
  const wr = (name: VarName, value: bigint): void => {
    m.write(varAddress(layout, name), word, value);
  };
  m.writeBytes(layout.table, encodePatchTable(sites));
  wr('bpVec', layout.table);
  wr('bpNr', BigInt(sites.length));
  if (image.kprobes.length > 0) {
    m.writeBytes(layout.kprobeTable, encodeKprobeTable(image.kprobes, image.symbol('kprobe_pre_handler'), config.kprobeBoost));
    wr('kprobeVec', layout.kprobeTable);
    wr('kprobeNr', BigInt(image.kprobes.length));
    wr('slotsEnd', image.symbol('kprobe_slots_end'));
  }
  wr('onlineCpus', BigInt(config.cpus));
  if (config.ftraceNmiProtocol) wr('modifyingCode', 1n);
  if (sites.some((s) => (s.span ?? s.newBytes.length) > s.newBytes.length)) wr('quiesceOn', 1n);
  const regs = REG[config.arch];
  for (let i = 0; i < config.cpus; i++) {
    const cpu = m.cpus[i]!;
    const stackTop = layout.stacks + BigInt((i + 1) * layout.stackSize) - 64n;
    let rip = 'workload';
    let count = 0;
    if (i === 0) {
      rip = 'patcher_main';
      count = config.startAfter;
    } else if (config.irqOff?.cpu === i) {
      rip = 'irqoff_main';
      count = Math.max(1, Math.ceil(config.irqOff.cycles / 3));
    }
    m.start(i, { rip: image.symbol(rip), rsp: stackTop, interrupts: true });
    cpu.setReg(regs.bx, layout.work + BigInt(i * STAT.size));
    cpu.setReg(regs.si, BigInt(i % config.sites));
    cpu.setReg(regs.di, BigInt(count));
    cpu.setReg(regs.cx, routine);
  }
  return m;
}

export interface Drive {
  readonly steps: number;
  /** Step at which the patch routine had returned, or undefined. */
  readonly doneAt: number | undefined;
  readonly listings: readonly Listing[];
}

/**
 * Runs in rounds until the patch is done and every CPU has settled, or it is hung; the
 * machine code keeps every figure, this only decides when to stop, when the NMI of
 * `config.nmi` arrives, and (with `observe`) where CPU 0 is stopped for a listing.
 */
export function driveToCompletion(m: Machine, image: PatchImage, config: ResolvedPatchConfig, routine: bigint): Drive {
  const chunk = config.cpus * 64;
  const flag = (name: VarName): boolean => m.read(varAddress(image.layout, name), 4) !== 0n;
  const listings = listingTaker(m, image, config, routine);
  const scheduler = config.scheduler === 'round-robin' ? { kind: 'round-robin' as const, quantum: config.quantum } : { kind: 'random' as const };
  let steps = 0;
  let nmiAt: number | undefined;
  let doneAt: number | undefined;
  let settleTarget = Infinity;
  let hungAt: number | undefined;
  while (steps < config.maxSteps) {
    const nmiDue = nmiAt !== undefined && nmiAt >= 0;
    const waitStart = config.nmi !== undefined && nmiAt === undefined;
    const observing = config.observe && doneAt === undefined;
    let until: ((mm: Machine) => boolean) | undefined;
    if (observing) until = listings.atStop;
    if (waitStart) until = (mm): boolean => mm.cpus[0]!.rip === routine || (config.observe && listings.atStop(mm));
    else if (nmiDue) until = (mm): boolean => mm.cpus[0]!.cycles >= (nmiAt ?? 0) || (observing && listings.atStop(mm));
    const r = m.run({ steps: chunk, scheduler, ...(until ? { until } : {}) });
    steps += r.steps;
    if (r.reason === 'until') {
      if (waitStart && m.cpus[0]!.rip === routine) nmiAt = m.cpus[0]!.cycles + config.nmi.afterCycles;
      if (nmiDue && m.cpus[0]!.cycles >= (nmiAt ?? 0)) {
        m.injectNmi(config.nmi?.cpu ?? 0);
        nmiAt = -1;
      } else if (listings.atStop(m)) steps += listings.take();
      else {
        // stopped for the NMI's start point: step past the patch routine's first instruction
        m.step(0);
        steps++;
      }
      continue;
    }
    if (r.reason === 'idle') break;
    if (doneAt === undefined && flag('patchDone')) {
      doneAt = steps;
      if (config.observe) listings.take('patch done');
      settleTarget = steps + config.settle * config.cpus * 64;
    }
    if (doneAt !== undefined && steps >= settleTarget) break;
    if (doneAt === undefined && m.cpus[0]!.status !== 'running' && m.cpus[0]!.status !== 'halted') break;
    // A CPU that died (#GP, unclaimed int3, BUG) never answers a sync or a rendezvous: give the
    // patcher a while, then call it hung, as the kernel's soft-lockup detector would.
    if (doneAt === undefined && hungAt === undefined && (flag('gpCount') || flag('strayInt3') || flag('bugCount'))) hungAt = steps + HUNG_ROUNDS * chunk;
    if (hungAt !== undefined && doneAt === undefined && steps >= hungAt) break;
  }
  return { steps, doneAt, listings: listings.listings };
}

/**
 * With `observe`: where CPU 0 stops for a listing of the first patched function (the patch
 * routine's start, each `run_sync`, stop_machine's RUN), and the listings taken. `take()`
 * records the listing for where CPU 0 stands and steps it past that instruction (returning
 * the steps); `take(when)` records one without stepping.
 */
function listingTaker(m: Machine, image: PatchImage, config: ResolvedPatchConfig, routine: bigint) {
  const first = image.sites[0]!;
  const fn0 = image.symbol(first.function);
  const fnLength = Number(first.address - fn0) + first.oldBytes.length + 10;
  const runSync = image.symbol('run_sync');
  const smRuns = [image.symbol('stop_machine_text_poke'), image.symbol('__ftrace_modify_code')];
  const stops = config.observe ? [runSync, routine, ...(config.method === 'stop-machine' ? smRuns : [])] : [];
  const listings: Listing[] = [];
  let syncsSeen = 0;
  const record = (when: string): void => {
    listings.push({ when, address: fn0, bytes: m.readBytes(fn0, fnLength) });
  };
  return {
    listings,
    atStop: (mm: Machine): boolean => stops.includes(mm.cpus[0]!.rip),
    take(when?: string): number {
      if (when !== undefined) {
        record(when);
        return 0;
      }
      const rip = m.cpus[0]!.rip;
      if (rip === routine) record('patch starts');
      else if (smRuns.includes(rip)) record('every CPU stopped, interrupts off (RUN): CPU 0 writes next');
      else record(`sync ${String(++syncsSeen)}`);
      let steps = 0;
      while (m.cpus[0]!.rip === rip && m.cpus[0]!.status === 'running') {
        m.step(0);
        steps++;
      }
      return steps;
    },
  };
}
