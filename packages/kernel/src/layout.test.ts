import { describe, expect, it } from 'vitest';
import { layoutOf } from './layout.js';

describe('layoutOf', () => {
  it('gives each architecture its own layout', () => {
    expect(layoutOf('x86_64').userText).toBe(layoutOf('i386').userText);
    expect(layoutOf('x86_64').vmalloc).not.toBe(layoutOf('i386').vmalloc);
  });

  it('refuses an architecture it does not have instead of handing out the i386 layout', () => {
    for (const bad of ['bogus', 'x86-64', '', undefined]) {
      expect(() => layoutOf(bad as never), String(bad)).toThrow(expect.objectContaining({ name: 'KernelError', code: 'KERNSIM_KERNEL_BAD_OPTIONS' }) as Error);
    }
  });
});
