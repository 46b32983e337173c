import type { Machine } from '@kernsim/cpu-core';
import type { Invariant } from '@kernsim/cpu-core/explore';
import { varAddress } from '@kernsim/kernel/smp';
import type { VarName } from '@kernsim/kernel/smp';
import type { PatchImage } from '../code/image.js';
import { PATCH_INVARIANTS } from './code-view.js';

/** The machine-level invariants: the CMC detector (`torn-instruction`) and the kernel's death paths (`oops`). */
export function machineInvariants(image: PatchImage, cmc: 'fault' | 'execute'): Invariant[] {
  const word = (m: Machine, name: VarName): bigint => m.read(varAddress(image.layout, name), 8);
  return [
    {
      name: PATCH_INVARIANTS.torn,
      reads: [],
      check: (m) => {
        for (const c of m.cpus) {
          // The detector's #GP is delivered in the step that fetched the bytes; `lastFault` is cheap to read, `counters` copies arrays.
          const reason = c.lastFault?.reason ?? '';
          if (reason.startsWith('cross-modified code')) return `CPU ${c.id} fetched bytes another CPU changed since it last serialized: #GP (${reason})`;
          if (cmc === 'execute' && c.counters.xmcTorn > 0) return `CPU ${c.id} executed bytes another CPU changed since it last serialized (crossModifyingCode: execute)`;
        }
        return undefined;
      },
    },
    {
      name: PATCH_INVARIANTS.oops,
      reads: [],
      check: (m) => {
        if (word(m, 'strayInt3') !== 0n) return 'an int3 at the site trapped, and the #BP handler found no patch in progress: nobody claims it (the kernel dies)';
        if (word(m, 'gpCount') !== 0n) return `#GP at ${m.symbols.symbolize(word(m, 'gpLastRip')) ?? '?'}: the kernel dies`;
        const dead = m.cpus.find((c) => c.status === 'dead');
        return dead ? `CPU ${dead.id} died: ${dead.deathReason}` : undefined;
      },
    },
  ];
}
