import { describe, expect, it } from 'vitest';
import { varAddress } from '@kernsim/kernel/smp';
import { hex } from '../forms.js';
import { runPatch, runPatchWith } from '../run.js';
import type { PatchImage } from './image.js';
import { ENTRY } from './patch-table.js';
import type { Machine } from '@kernsim/cpu-core';

/** Entry 0 of the patch table now writes into the `scratch` word instead of its site: a write that does not land. */
function misdirectFirstWrite(m: Machine, image: PatchImage): void {
  const site = image.sites[0]!;
  const distance = varAddress(image.layout, 'scratch') - site.address;
  m.write(image.layout.table + BigInt(ENTRY.pokeDelta), 4, BigInt.asUintN(32, distance));
}

describe("text_poke reads back what it wrote (3.3's BUG_ON)", () => {
  it.each(['x86_64', 'i386'] as const)('%s: a write that did not reach the site is a BUG on the writing CPU, and the patch never completes', (arch) => {
    // 3.3 jump labels under stop_machine: text_poke_smp, whose text_poke checks every byte
    const r = runPatchWith({ arch, method: 'stop-machine', user: 'static-key', cpus: 2 }, misdirectFirstWrite);
    expect(r.bugs).toBe(1);
    expect(r.completed).toBe(false);
    expect(r.machine.cpus[0]!.lastFault).toBeUndefined();
    expect(r.bugAt).toBeDefined();
    // the BUG is text_poke's own check, between its entry and the end of the image's pokers
    expect(r.bugAt!).toBeGreaterThan(r.image.symbol('text_poke'));
    expect(r.bugAt!).toBeLessThan(r.image.symbol('int3_insn'));
    expect(hex(r.finalBytes[0]!)).toBe(hex(r.sites[0]!.oldBytes));
  });

  it('the breakpoint method BUGs at its first poke (the int3) the same way', () => {
    const r = runPatchWith({ method: 'breakpoint', user: 'static-key', cpus: 2 }, misdirectFirstWrite);
    expect(r.bugs).toBe(1);
    expect(r.completed).toBe(false);
  });

  it('with the writes landing, no BUG and every site holds the new bytes', () => {
    for (const method of ['stop-machine', 'breakpoint'] as const) {
      const r = runPatch({ method, user: 'static-key', cpus: 2, sites: 3 });
      expect(r.bugs).toBe(0);
      expect(r.completed).toBe(true);
      r.sites.forEach((s, i) => { expect(hex(r.finalBytes[i]!)).toBe(hex(s.newBytes)); });
    }
  });
});
