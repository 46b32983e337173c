import { describe, expect, it } from 'vitest';
import { barChart } from './svg.js';

describe('barChart', () => {
  it('escapes labels and scales bars to the largest value', () => {
    const svg = barChart([
      { label: '<b>Red Hat</b>', value: 1290 },
      { label: '(None)', value: 645 },
    ]);
    expect(svg).not.toContain('<b>');
    expect(svg).toContain('&lt;b&gt;Red Hat&lt;/b&gt;');
    const widths = [...svg.matchAll(/<rect [^>]*width="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(widths[1]! * 2).toBeCloseTo(widths[0]!, 0);
  });
});
