import type { AssembledCode } from '../asm/assembler.js';
import { CpuError } from '../errors.js';
import { lookupPage, writeThrough } from './address-space-ops.js';
import type { AddressSpace, MachineCore } from './core.js';
import { F_CODE } from './frame.js';

/** A range of loaded code in one address space. */
export interface CodeRegion {
  readonly start: bigint;
  readonly end: bigint;
  readonly space: number;
}

export type LoadableCode = Pick<AssembledCode, 'origin' | 'bytes'> & { readonly symbols?: ReadonlyMap<string, bigint> };

/**
 * Writes code into mapped memory and marks its pages as code (decode cache ready); refuses
 * code overlapping an earlier load in the same space or reaching an unmapped page. Every CPU
 * serializes afterwards, as after a boot-time load.
 */
export function placeCode(core: MachineCore, regions: CodeRegion[], code: LoadableCode, space: AddressSpace): void {
  const start = code.origin;
  const end = code.origin + BigInt(code.bytes.length);
  for (const r of regions) {
    if (r.space === space.id && start < r.end && r.start < end) {
      throw new CpuError('KERNSIM_CPU_OVERLAP', `code at 0x${start.toString(16)}-0x${end.toString(16)} overlaps code loaded at 0x${r.start.toString(16)}-0x${r.end.toString(16)}`);
    }
  }
  for (let a = start & ~0xfffn; a < end; a += 4096n) {
    if (!lookupPage(core, a < start ? start : a, space)) throw new CpuError('KERNSIM_CPU_UNMAPPED', `code at 0x${start.toString(16)}: page 0x${a.toString(16)} is not mapped`);
  }
  writeThrough(core, start, code.bytes, space);
  for (let a = start & ~0xfffn; a < end; a += 4096n) {
    const r = lookupPage(core, a < start ? start : a, space)!;
    r.f.flags |= F_CODE;
    r.f.ops ??= new Array<undefined>(4096).fill(undefined);
  }
  regions.push({ start, end, space: space.id });
}
