import { Mnemonic, OpKind, Register } from 'iced-x86';
import type { Instruction } from 'iced-x86';
import { CpuError } from '../../errors.js';
import { oneOf } from '../validate.js';
import { flatCosts, MODELLED_COSTS } from './costs.js';
import type { CostFigure, CostTable } from './costs.js';

export type TimingKind = 'flat' | 'modelled';

/** Which CPUs share a socket (line transfers between sockets cost more). */
export interface Topology {
  /** CPUs per socket, numbered consecutively (default 8, a Sandy Bridge EP socket). */
  readonly cpusPerSocket?: number;
}

/**
 * The cycle model every path shares: the scheduler loops, `step()` and replay all charge
 * exactly these figures, so a recorded schedule replays to the same clock. Plain numbers,
 * resolved once when the machine is built.
 */
export interface Timing {
  readonly kind: TimingKind;
  readonly costs: CostTable;
  /** A step that delivers an NMI, an interrupt or an exception (including the faulting instruction's slot). */
  readonly eventStep: number;
  /** Extra cost of a delivery on top of an instruction that completed (single-step #DB). */
  readonly delivery: number;
  /** A step of a halted CPU waiting for a wake-up. */
  readonly idleStep: number;
  readonly repIteration: number;
  /**
   * What a `wrmsr` adds to its instruction's cost when it serialises: every MSR but the
   * x2APIC registers (SDM vol. 3A 10.12.3), so the cost depends on ECX and is charged when it runs.
   */
  readonly wrmsrSerialising: number;
  readonly icrWrite: number;
  readonly ipiLatency: number;
  /** Whether stores track cache-line ownership (modelled timing only). */
  readonly lines: boolean;
  readonly lineLocal: number;
  readonly lineRemote: number;
  readonly cpusPerSocket: number;
}

const nonNegative = (name: string, v: number): number => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new CpuError('KERNSIM_CPU_CONFIG', `costs.${name} must be a non-negative integer of cycles, got ${String(v)}`);
  return v;
};

/**
 * Builds the timing for a machine: `flat` is one `cyclesPerInstruction` per instruction,
 * `modelled` the cited table (with overrides). A machine given `cyclesPerInstruction` and no
 * `timing` is flat (that option means nothing to the modelled table).
 */
export function resolveTiming(kind: TimingKind | undefined, cpi: number | undefined, overrides: Partial<Record<keyof CostTable, number>> | undefined, topology: Topology | undefined): Timing {
  const k = oneOf(kind ?? (cpi === undefined ? 'modelled' : 'flat'), ['flat', 'modelled'], 'timing', 'KERNSIM_CPU_CONFIG');
  if (k === 'modelled' && cpi !== undefined) throw new CpuError('KERNSIM_CPU_CONFIG', `cyclesPerInstruction (${cpi}) applies to flat timing only; the modelled timing takes 'costs'`);
  const base = k === 'flat' ? flatCosts(cpi ?? 1) : MODELLED_COSTS;
  const costs: Record<string, CostFigure> = { ...base };
  for (const [name, v] of Object.entries(overrides ?? {})) {
    if (!(name in base)) throw new CpuError('KERNSIM_CPU_CONFIG', `unknown cost ${name}; the table has ${Object.keys(base).join(', ')}`);
    costs[name] = { cycles: nonNegative(name, v), basis: 'derived', source: 'set by createMachine({ costs })' };
  }
  const table = costs as unknown as CostTable;
  const perSocket = topology?.cpusPerSocket ?? 8;
  if (!Number.isInteger(perSocket) || perSocket < 1) throw new CpuError('KERNSIM_CPU_CONFIG', `topology.cpusPerSocket must be a positive integer, got ${String(perSocket)}`);
  return {
    kind: k,
    costs: table,
    eventStep: table.simple.cycles + table.delivery.cycles,
    delivery: table.delivery.cycles,
    idleStep: table.simple.cycles,
    repIteration: table.repIteration.cycles,
    wrmsrSerialising: Math.max(0, table.serialising.cycles - table.simple.cycles),
    icrWrite: table.icrWrite.cycles,
    ipiLatency: table.ipiLatency.cycles,
    lines: k === 'modelled',
    lineLocal: table.lineTransferLocal.cycles,
    lineRemote: table.lineTransferRemote.cycles,
    cpusPerSocket: perSocket,
  };
}

const SERIALISING = new Set<Mnemonic>([Mnemonic.Lidt, Mnemonic.Lgdt, Mnemonic.Invd, Mnemonic.Wbinvd]);
const IRET = new Set<Mnemonic>([Mnemonic.Iret, Mnemonic.Iretd, Mnemonic.Iretq]);

/** The cost of one decoded instruction, looked up once when it is decoded (never inside its semantics). */
export function instructionCost(instr: Instruction, t: Timing): number {
  const c = t.costs;
  const mn = instr.mnemonic;
  if (mn === Mnemonic.Pause) return c.pause.cycles;
  if (mn === Mnemonic.Cpuid) return c.cpuid.cycles;
  if (IRET.has(mn)) return c.iret.cycles;
  if (SERIALISING.has(mn)) return c.serialising.cycles;
  if (mn === Mnemonic.Mfence) return c.fence.cycles;
  if (mn === Mnemonic.Mov && instr.op0Kind === OpKind.Register && instr.op0Register >= Register.CR0 && instr.op0Register <= Register.CR15) return c.serialising.cycles;
  if (instr.hasLockPrefix) return c.locked.cycles;
  if (mn === Mnemonic.Xchg && (instr.op0Kind === OpKind.Memory || instr.op1Kind === OpKind.Memory)) return c.locked.cycles;
  return c.simple.cycles;
}
