import { describe, expect, it } from 'vitest';
import { CpuError } from '../errors.js';
import { kit } from '../testing/kit.js';

const pattern = (n: number): number[] => Array.from({ length: n }, (_, i) => (i * 7 + 3) & 0xff);

function unmappedError(read: () => unknown): CpuError {
  try {
    read();
  } catch (e) {
    if (e instanceof CpuError) return e;
    throw e;
  }
  throw new Error('the read did not fail');
}

describe('readBytes across pages', () => {
  it('reads on from the page below 4 GiB into the one above (the high half of the address carries)', () => {
    const { m } = kit({ arch: 'x86_64' });
    // Two pages 4 GiB apart share their low halves: a lost carry reads the wrong one.
    m.map(0xfffff000n, 0x2000);
    m.map(0x1000n, 0x1000);
    const bytes = pattern(0x2000);
    m.writeBytes(0xfffff000n, bytes);
    m.writeBytes(0x1000n, new Array<number>(0x1000).fill(0xee));
    expect([...m.readBytes(0xfffffff8n, 16)]).toEqual(bytes.slice(0xff8, 0x1008));
    expect([...m.readBytes(0xfffff000n, 0x2000)]).toEqual(bytes);
  });

  it('wraps from the last page of the 64-bit space to page 0', () => {
    const { m } = kit({ arch: 'x86_64' });
    m.map(0xfffffffffffff000n, 0x1000);
    m.map(0n, 0x1000);
    m.writeBytes(0xfffffffffffffffcn, [1, 2, 3, 4]);
    m.writeBytes(0n, [5, 6, 7, 8]);
    expect([...m.readBytes(0xfffffffffffffffcn, 8)]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('names the first unmapped address a read reaches', () => {
    const { m } = kit({ arch: 'x86_64' });
    m.map(0xfffff000n, 0x1000);
    const e = unmappedError(() => m.readBytes(0xfffffff0n, 0x20));
    expect(e.code).toBe('KERNSIM_CPU_UNMAPPED');
    expect(e.message).toMatch(/read of 0x100000000:/);
    m.map(0xfffffffffffff000n, 0x1000);
    expect(unmappedError(() => m.readBytes(0xfffffffffffffff0n, 0x20)).message).toMatch(/read of 0x0:/);
  });

  it('reads across a page boundary on an i386 machine', () => {
    const { m, layout } = kit({ arch: 'i386' });
    const bytes = pattern(0x2000);
    m.writeBytes(layout.data, bytes);
    expect([...m.readBytes(layout.data + 0xffdn, 6)]).toEqual(bytes.slice(0xffd, 0x1003));
    expect([...m.readBytes(layout.data + 0x10n, 0x1ff0)]).toEqual(bytes.slice(0x10));
  });
});
