import { describe, expect, it } from 'vitest';
import type { Machine } from '@kernsim/cpu-core';
import { varAddress } from '@kernsim/kernel/smp';
import { hex } from '../forms.js';
import { runPatchWith } from '../run.js';
import type { PatchImage } from './image.js';
import { ENTRY } from './patch-table.js';
import { encodePatchTable } from './tables.js';

/** Entry `i` now expects other old bytes than the site holds (a record out of step with the text). */
function expectOther(i: number): (m: Machine, image: PatchImage) => void {
  return (m, image) => {
    const at = image.layout.table + BigInt(i * ENTRY.size + ENTRY.oldBytes + 1);
    m.writeBytes(at, Uint8Array.of(0x66));
  };
}

describe('the breakpoint method compares the old bytes before its int3s (3.13 add_break)', () => {
  it.each(['x86_64', 'i386'] as const)('%s: a site that does not hold the expected bytes: ftrace_bug at it, the int3s placed so far taken out after one sync, nothing written', (arch) => {
    const r = runPatchWith({ arch, method: 'breakpoint', cpus: 4, sites: 3 }, expectOther(1));
    const sorted = [...r.sites].sort((x, y) => (x.address < y.address ? -1 : 1));
    expect(r.completed).toBe(true);
    expect(r.modifyFailed).toBe(sorted[1]!.address);
    r.sites.forEach((s, i) => { expect(hex(r.finalBytes[i]!)).toBe(hex(s.oldBytes)); });
    expect(r.syncRounds).toBe(1);
    expect(r.gpFaults + r.strayInt3 + r.bugs).toBe(0);
  });

  it('one site at a time (3.13 jump labels) the mismatch is bug_at(): BUG before any write', () => {
    const r = runPatchWith({ method: 'breakpoint', batching: 'each', user: 'static-key', cpus: 2, sites: 2 }, expectOther(0));
    expect(r.bugs).toBe(1);
    expect(r.completed).toBe(false);
    r.sites.forEach((s, i) => { expect(hex(r.finalBytes[i]!)).toBe(hex(s.oldBytes)); });
  });
});

describe('1-byte patches skip the tail and its sync (3.13 text_poke_bp)', () => {
  // A patch of one byte of the data page's scratch word: no CPU runs it, the syncs are what counts.
  const oneByte = (m: Machine, image: PatchImage): void => {
    const address = varAddress(image.layout, 'scratch');
    m.writeBytes(image.layout.table, encodePatchTable([{ function: 'scratch', address, oldBytes: [0], newBytes: [0x90], mode: 'skip', handler: address + 1n }]));
    m.write(varAddress(image.layout, 'bpNr'), 8, 1n);
  };
  it.each(['batch', 'each'] as const)('%s: two syncs instead of three, and the byte is written', (batching) => {
    const r = runPatchWith({ method: 'breakpoint', batching, cpus: 3, sites: 1 }, oneByte);
    expect(r.completed).toBe(true);
    expect(r.syncRounds).toBe(2);
    expect(r.ipisDelivered).toBe(2 * 2);
    expect(Number(r.machine.read(varAddress(r.image.layout, 'scratch'), 1))).toBe(0x90);
  });
});
