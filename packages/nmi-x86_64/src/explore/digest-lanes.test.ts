import { describe, expect, it } from 'vitest';
import { Lanes } from './digest-lanes.js';

/** The words `big` feeds the lanes, for a list of values. */
function wordsOf(values: readonly bigint[]): string {
  const seen: number[] = [];
  const h = new (class extends Lanes {
    override word(x: number): void {
      seen.push(x | 0);
      super.word(x);
    }
  })();
  for (const v of values) h.big(v);
  return seen.join(',');
}

function digest(values: readonly bigint[]): string {
  const h = new Lanes();
  for (const v of values) h.big(v);
  const out = new Int32Array(2);
  h.finish(out);
  return `${out[0]},${out[1]}`;
}

const M64 = (1n << 64n) - 1n;

describe('the digest lanes', () => {
  it('tell apart register values that differ only in where an errno-like value near 2⁶⁴ sits', () => {
    // -1 rounds to 2⁶⁴ as a Number; its high half (2³²) must not read as 0 ("below 2²¹, two words").
    const a = [M64, 0n, 0xfffn << 32n];
    const b = [0n, 0xfffn, M64];
    expect(digest(a)).not.toBe(digest(b));
  });

  it('give distinct word sequences for distinct lists of values near the encoding boundaries', () => {
    const edges = [0n, 1n, 0xfffn, 0xfffn << 32n, (1n << 53n) - 1n, 1n << 53n, 1n << 63n, M64 - 3072n, M64 - 2048n, M64 - 1024n, M64 - 22n, M64];
    const seen = new Map<string, string>();
    for (const x of edges) {
      for (const y of edges) {
        for (const z of edges) {
          const key = wordsOf([x, y, z]);
          const list = `${x},${y},${z}`;
          expect(seen.get(key) ?? list).toBe(list);
          seen.set(key, list);
        }
      }
    }
    expect(seen.size).toBe(edges.length ** 3);
  });

  it('depend on the order of the fields (no field mixed in symmetrically)', () => {
    const perms = [[1n, 2n, 3n], [1n, 3n, 2n], [2n, 1n, 3n], [2n, 3n, 1n], [3n, 1n, 2n], [3n, 2n, 1n]];
    expect(new Set(perms.map(digest)).size).toBe(perms.length);
    expect(digest([M64, 0n])).not.toBe(digest([0n, M64]));
  });
});
