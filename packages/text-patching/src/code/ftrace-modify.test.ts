import { describe, expect, it } from 'vitest';
import type { Machine } from '@kernsim/cpu-core';
import { hex } from '../forms.js';
import { runPatchWith } from '../run.js';
import type { PatchImage } from './image.js';
import { ENTRY } from './patch-table.js';

describe("3.3 ftrace under stop_machine: __ftrace_modify_code on CPU 0", () => {
  it('CPU 0 alone runs the function (stop_machine(fn, data, NULL)); every site is written, nobody faults', () => {
    const r = runPatchWith({ method: 'stop-machine', user: 'ftrace', cpus: 4, sites: 3 }, (m) => {
      m.startTrace({ kinds: ['instruction'] });
    });
    const fn = r.image.symbol('__ftrace_modify_code');
    const entered = [0, 1, 2, 3].map((cpu) => r.machine.trace.filter((e) => e.kind === 'instruction' && e.cpu === cpu && e.address === fn).length);
    expect(entered).toEqual([1, 0, 0, 0]);
    expect(r.completed).toBe(true);
    expect(r.gpFaults).toBe(0);
    r.sites.forEach((s, i) => { expect(hex(r.finalBytes[i]!)).toBe(hex(s.newBytes)); });
    expect(r.modifyFailed).toBeUndefined();
  });

  it.each(['x86_64', 'i386'] as const)('%s: a record whose old bytes are not at the site: -EINVAL, ftrace_bug at it, and processing stops there', (arch) => {
    const second = (m: Machine, image: PatchImage): void => {
      m.writeBytes(image.layout.table + BigInt(ENTRY.size + ENTRY.oldBytes), Uint8Array.of(0xe8));
    };
    const r = runPatchWith({ arch, method: 'stop-machine', user: 'ftrace', cpus: 4, sites: 3 }, second);
    const sorted = [...r.sites].map((s, i) => ({ s, bytes: r.finalBytes[i]! })).sort((x, y) => (x.s.address < y.s.address ? -1 : 1));
    expect(r.completed).toBe(true);
    expect(r.modifyFailed).toBe(sorted[1]!.s.address);
    expect(hex(sorted[0]!.bytes)).toBe(hex(sorted[0]!.s.newBytes));
    expect(hex(sorted[1]!.bytes)).toBe(hex(sorted[1]!.s.oldBytes));
    expect(hex(sorted[2]!.bytes)).toBe(hex(sorted[2]!.s.oldBytes));
    expect(r.gpFaults + r.bugs).toBe(0);
  });
});
