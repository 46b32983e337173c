import { describe, expect, it } from 'vitest';
import { blockBars } from './patch-curve.js';

describe('blockBars', () => {
  it('scales the longest bar to the width, in eighths of a block', () => {
    const text = blockBars([{ label: 'a', value: 8 }, { label: 'bb', value: 1 }], 'µs', 8);
    const [a, b] = text.split('\n');
    expect(a).toBe('a   ████████ 8 µs');
    expect(b).toBe('bb  █ 1 µs');
    expect(blockBars([{ label: 'x', value: 3 }, { label: 'y', value: 16 }], 'c', 2).split('\n')[0]).toBe('x  ▍ 3 c');
  });
});
