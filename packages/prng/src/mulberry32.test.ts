import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PrngError, type PrngErrorCode } from './errors.js';
import { MAX_RANGE, Prng, mulberry32Next, mulberry32Value } from './mulberry32.js';

const codeOf = (f: () => unknown): PrngErrorCode | undefined => {
  try {
    f();
  } catch (e) {
    if (e instanceof PrngError) return e.code;
    throw e;
  }
  return undefined;
};

const draws = (prng: Prng, n: number): number[] => Array.from({ length: n }, () => prng.next());
const seed = fc.integer({ min: 0, max: 0xffffffff });

describe('mulberry32 known answers (pinned: every seeded run in kernsim depends on them)', () => {
  it.each([
    [0, [1144304738, 1416247, 958946056, 627933444, 2007157716]],
    [2012, [1695731559, 2052486347, 884303378, 3420902966, 2918673667]],
    [0xffffffff, [3850105811, 813802916, 3073704848, 4054706436, 3630262831]],
  ])('seed %i gives its first five 32-bit outputs', (s, expected) => {
    expect(draws(new Prng(s), 5).map((x) => x * 2 ** 32)).toEqual(expected);
  });

  it('int(100) from seed 2012', () => {
    const prng = new Prng(2012);
    expect(Array.from({ length: 8 }, () => prng.int(100))).toEqual([39, 47, 20, 79, 67, 72, 78, 67]);
  });
});

describe('the step function and the class are one generator', () => {
  it('stepping a signed or unsigned copy of the state gives the class sequence', () => {
    fc.assert(
      fc.property(seed, (s) => {
        let signed = s | 0;
        let unsigned = s >>> 0;
        const fromSteps: number[] = [];
        for (let i = 0; i < 16; i++) {
          signed = mulberry32Next(signed);
          unsigned = (unsigned + 0x6d2b79f5) >>> 0;
          expect(mulberry32Value(unsigned)).toBe(mulberry32Value(signed));
          fromSteps.push(mulberry32Value(signed));
        }
        expect(signed).toBe(signed | 0);
        expect(draws(new Prng(s), 16)).toEqual(fromSteps);
      }),
    );
  });

  it('the same seed gives the same sequence; different seeds differ', () => {
    fc.assert(
      fc.property(seed, seed, (a, b) => {
        expect(draws(new Prng(a), 32)).toEqual(draws(new Prng(a), 32));
        if (a !== b) expect(draws(new Prng(a), 4)).not.toEqual(draws(new Prng(b), 4));
      }),
    );
  });

  it('next() is in [0, 1) and int(n) in [0, n) as an integer', () => {
    fc.assert(
      fc.property(seed, fc.integer({ min: 1, max: MAX_RANGE }), (s, n) => {
        const prng = new Prng(s);
        for (let i = 0; i < 32; i++) {
          const x = prng.next();
          expect(x >= 0 && x < 1).toBe(true);
          const k = prng.int(n);
          expect(Number.isInteger(k) && k >= 0 && k < n).toBe(true);
        }
      }),
    );
  });

  it('int(n) covers every value of a small range', () => {
    const prng = new Prng(7);
    const seen = new Set(Array.from({ length: 200 }, () => prng.int(6)));
    expect([...seen].sort()).toEqual([0, 1, 2, 3, 4, 5]);
  });
});

describe('bad input is a typed error with a stable code', () => {
  it.each([-1, 1.5, 2 ** 32, Number.NaN, Number.POSITIVE_INFINITY])('seed %s', (s) => {
    expect(codeOf(() => new Prng(s))).toBe('KERNSIM_PRNG_BAD_SEED');
  });

  it.each([0, -3, 2.5, MAX_RANGE + 1, Number.NaN])('range %s', (n) => {
    expect(codeOf(() => new Prng(1).int(n))).toBe('KERNSIM_PRNG_BAD_RANGE');
  });

  it('a bad range draws nothing: the sequence continues where it was', () => {
    const a = new Prng(3);
    const b = new Prng(3);
    expect(codeOf(() => a.int(0))).toBe('KERNSIM_PRNG_BAD_RANGE');
    expect(a.next()).toBe(b.next());
  });
});
