/** The machine's configuration and the options of its methods. */
import type { AddressSpace } from './core.js';
import type { Machine } from './machine.js';
import type { Arch } from './arch.js';
import type { Scheduler } from './schedule.js';
import type { CostTable } from './timing/costs.js';
import type { TimingKind, Topology } from './timing/model.js';

export interface MachineConfig {
  readonly arch: Arch;
  /** 1 to 4096. */
  readonly cpus: number;
  /** Seeds the random scheduler (default 1). */
  readonly seed?: number;
  /**
   * How instructions cost cycles. 'modelled' (the default): the cited per-instruction table,
   * event delivery, cache-line transfers and IPI latency (README, "Timing model"). 'flat': every
   * instruction costs `cyclesPerInstruction` (pause 11 of them), IPIs arrive inside the sending
   * instruction and caches are free — the original model, for tests that count instructions.
   */
  readonly timing?: TimingKind;
  /** Flat timing: cycles each instruction costs (default 1). */
  readonly cyclesPerInstruction?: number;
  /** Overrides of single figures of the timing table, in cycles (e.g. `{ ipiLatency: 4000 }`). */
  readonly costs?: Partial<Record<keyof CostTable, number>>;
  /** Which CPUs share a socket, for line transfers (default 8 CPUs per socket). */
  readonly topology?: Topology;
  /**
   * A CPU reaching code another CPU changed since it last serialised: 'fault' raises #GP (the
   * strict detector, default); 'execute' runs the bytes as they are now (a torn instruction),
   * counted in `counters.xmcTorn`.
   */
  readonly crossModifyingCode?: 'fault' | 'execute';
  /**
   * 'blocks' (the default): hot straight-line code runs as cached basic blocks that stop at the
   * same instruction boundaries as the interpreter; 'interpreter': every instruction is fetched
   * and run one at a time (the reference the blocks are tested against). Results are identical.
   */
  readonly execution?: 'blocks' | 'interpreter';
  /** Serial port cost; default 87 000 cycles per byte (115200 baud at 1 GHz). */
  readonly serial?: { readonly cyclesPerByte?: number };
  /** Physical memory limit in MiB (default 256). */
  readonly memoryMiB?: number;
  /**
   * Record every scheduling choice for `schedule()` (default true). The log is compressed
   * (round-robin runs and bursts take one entry), so leaving it on is cheap; turn it off for
   * long runs that will never be replayed.
   */
  readonly recordSchedule?: boolean;
}

export interface MapOptions {
  /** Address space to map into (default: the reference kernel table). */
  readonly space?: AddressSpace;
  readonly writable?: boolean;
  readonly user?: boolean;
  /** Physical address of the first frame (default: freshly allocated zeroed frames). */
  readonly phys?: bigint;
}

export interface GateOptions {
  readonly handler: bigint | string;
  readonly dpl?: 0 | 3;
  /** x86_64 IST index 1..7 (0: no stack switch unless the privilege changes). */
  readonly ist?: number;
  /** 'interrupt' (clears IF, the default) or 'trap'. */
  readonly type?: 'interrupt' | 'trap';
}

/** Which IDT a gate operation addresses: the machine's default table unless `table` names another one's base. */
export interface GateTableOptions {
  /** Linear address (or symbol) of an IDT in simulated memory, mapped in the reference kernel table. */
  readonly table?: bigint | string;
}

/** A gate as read back from an IDT in memory. */
export interface GateInfo {
  readonly handler: bigint;
  readonly dpl: number;
  readonly ist: number;
  readonly type: 'interrupt' | 'trap';
  readonly selector: number;
}


export interface StartOptions {
  readonly rip: bigint | string;
  readonly rsp: bigint;
  readonly cpl?: 0 | 3;
  /** Address space CR3 selects (default: the reference kernel table). */
  readonly space?: AddressSpace;
  /** IF set at start (default false). */
  readonly interrupts?: boolean;
}

export interface RunOptions {
  /** Upper bound on steps (default 1 000 000). */
  readonly steps?: number;
  readonly scheduler?: Scheduler;
  /** Checked before every step; the run stops when it returns true. */
  readonly until?: (m: Machine) => boolean;
}

export interface RunResult {
  readonly steps: number;
  readonly reason: 'steps' | 'until' | 'idle' | 'schedule-end';
}

export interface LoadOptions {
  readonly space?: AddressSpace;
}

/** An immutable image of the whole machine; restore it with `machine.restore`. */
export interface Snapshot {
  readonly hash: string;
  /** @internal */
  readonly state: unknown;
}
