import { CpuError } from '../errors.js';
import type { MachineConfig } from './machine-options.js';
import { oneOf } from './validate.js';

/** A machine configuration checked and with its defaults filled in. */
export interface ResolvedConfig {
  readonly cyclesPerInstruction: number | undefined;
  readonly serialCyclesPerByte: number;
  readonly memoryMiB: number;
  readonly seed: number;
  readonly tornCode: boolean;
}

/** Refuses a configuration the machine cannot be built from (typed errors naming the bad value). */
export function resolveConfig(config: MachineConfig): ResolvedConfig {
  if (!['x86_64', 'i386'].includes(config.arch)) throw new CpuError('KERNSIM_CPU_CONFIG', `arch must be 'x86_64' or 'i386', got ${config.arch as string}`);
  if (!Number.isInteger(config.cpus) || config.cpus < 1 || config.cpus > 4096) throw new CpuError('KERNSIM_CPU_CONFIG', `cpus must be an integer from 1 to 4096, got ${config.cpus}`);
  const cpi = config.cyclesPerInstruction;
  if (cpi !== undefined && (!Number.isInteger(cpi) || cpi < 1)) throw new CpuError('KERNSIM_CPU_CONFIG', `cyclesPerInstruction must be a positive integer, got ${cpi}`);
  const cpb = config.serial?.cyclesPerByte ?? 87_000;
  if (!Number.isInteger(cpb) || cpb < 0) throw new CpuError('KERNSIM_CPU_CONFIG', `serial.cyclesPerByte must be a non-negative integer, got ${cpb}`);
  const mib = config.memoryMiB ?? 256;
  if (!Number.isInteger(mib) || mib < 1 || mib > 4096) throw new CpuError('KERNSIM_CPU_CONFIG', `memoryMiB must be 1..4096, got ${mib}`);
  const seed = config.seed ?? 1;
  if (!Number.isInteger(seed)) throw new CpuError('KERNSIM_CPU_CONFIG', `seed must be an integer, got ${seed}`);
  const xmc = oneOf(config.crossModifyingCode ?? 'fault', ['fault', 'execute'], 'crossModifyingCode', 'KERNSIM_CPU_CONFIG');
  return { cyclesPerInstruction: cpi, serialCyclesPerByte: cpb, memoryMiB: mib, seed, tornCode: xmc === 'execute' };
}

/** The execution option, checked after the timing model is resolved (its errors come first). */
export function resolveExecution(config: MachineConfig): boolean {
  return oneOf(config.execution ?? 'blocks', ['blocks', 'interpreter'], 'execution', 'KERNSIM_CPU_CONFIG') === 'blocks';
}
