import { CpuError } from '../errors.js';
import { decodeGate, encodeGate, GATE_INTERRUPT, GATE_TRAP, gateSize } from './idt.js';
import type { GateInfo, GateOptions } from './machine-options.js';
import { oneOf } from './validate.js';

/** The bytes of a present gate descriptor for `setGate` (options checked, then the handler resolved). */
export function gateBytes(is64: boolean, kernelCs: number, gate: GateOptions, resolve: (target: bigint | string) => bigint): number[] {
  const ist = gate.ist ?? 0;
  if (!Number.isInteger(ist) || ist < 0 || ist > 7 || (ist !== 0 && !is64)) throw new CpuError('KERNSIM_CPU_BAD_ARGUMENT', `IST index must be 0..7 (x86_64 only), got ${ist}`);
  const dpl: number = gate.dpl ?? 0;
  if (dpl !== 0 && dpl !== 3) throw new CpuError('KERNSIM_CPU_BAD_ARGUMENT', `gate DPL must be 0 or 3, got ${String(dpl)}`);
  if (gate.type !== undefined) oneOf(gate.type, ['interrupt', 'trap'], 'gate type');
  const handler = resolve(gate.handler);
  return encodeGate(is64, { handler, selector: kernelCs, dpl, ist, type: gate.type === 'trap' ? GATE_TRAP : GATE_INTERRUPT, present: true });
}

/** A gate as `getGate` reports it (undefined when not present). */
export function gateInfo(is64: boolean, bytes: Uint8Array): GateInfo | undefined {
  const g = decodeGate(is64, bytes);
  if (!g.present) return undefined;
  return { handler: g.handler, dpl: g.dpl, ist: g.ist, type: g.type === GATE_TRAP ? 'trap' : 'interrupt', selector: g.selector };
}

/** Address of gate `vector` in the table `base()` resolves (called once the vector is known to be valid). */
export function gateAddress(is64: boolean, vector: number, base: () => bigint): bigint {
  if (!Number.isInteger(vector) || vector < 0 || vector > 255) throw new CpuError('KERNSIM_CPU_BAD_ARGUMENT', `vector must be 0..255, got ${vector}`);
  return base() + BigInt(vector * gateSize(is64));
}
