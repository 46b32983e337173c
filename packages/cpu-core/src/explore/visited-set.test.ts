import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildCounterModel } from '../testing/counter-model.js';
import { digestText, KeyBuilder, VisitedSet } from './visited-set.js';

describe('the visited set', () => {
  it('holds exactly the keys added, across its growth (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: -4, max: 4 }), fc.integer({ min: -4, max: 4 })), { maxLength: 400 }), fc.array(fc.tuple(fc.integer(), fc.integer()), { maxLength: 3000 }), (small, wide) => {
        const set = new VisitedSet(16);
        const model = new Set<string>();
        // (0, 0) marks an empty slot and is kept as (0, 1): one more 64-bit collision, as the README says.
        const text = (a: number, b: number): string => (a === 0 && b === 0 ? '0,1' : `${a},${b}`);
        for (const [a, b] of [...small, ...wide]) {
          const fresh = !model.has(text(a, b));
          model.add(text(a, b));
          expect(set.add(a, b)).toBe(fresh);
        }
        expect(set.size).toBe(model.size);
        // At most 3/4 full, 8 bytes a slot.
        expect(set.bytes).toBeGreaterThanOrEqual((set.size * 8 * 4) / 3);
        for (const [a, b] of small) expect(set.has(a, b)).toBe(true);
        expect(set.has(5, 5)).toBe(model.has('5,5'));
        expect(set.has(0, 0)).toBe(model.has('0,1'));
      }),
    );
  });

  it('shared by two threads (two views of one buffer) is one set until about 3/4 full, then each view adds to its own and still finds the shared keys (property)', () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 1200, max: 1500 }), (seed, n) => {
        // Distinct keys (distinct second words), the first words spread by the seed; 0 words included.
        const keys = Array.from({ length: n }, (_, i) => [Math.imul(i ^ seed, 0x9e3779b1) & (i % 5 === 0 ? 0 : -1), i * 7] as const);
        const buffer = VisitedSet.sharedBuffer(600);
        const views = [new VisitedSet(undefined, buffer), new VisitedSet(undefined, buffer)];
        expect(views[0]!.shared).toBe(true);
        // 1024 slots: about 768 keys shared (each view counts 16 at a time), then each view's own.
        keys.forEach(([a, b], i) => {
          const [mine, other] = i % 2 === 0 ? [views[0]!, views[1]!] : [views[1]!, views[0]!];
          expect(mine.add(a, b)).toBe(true);
          expect(mine.add(a, b)).toBe(false);
          expect(mine.has(a, b)).toBe(true);
          // In the shared table the other view skips it too; past the fill it searches it again (a duplicate, never a loss).
          if (i < 700) expect(other.add(a, b)).toBe(false);
          if (i >= 800) expect(other.add(a, b)).toBe(true);
        });
        for (const [a, b] of keys.slice(0, 700)) for (const v of views) expect(v.has(a, b)).toBe(true);
        for (const [a, b] of keys.slice(800)) for (const v of views) expect(v.has(a, b)).toBe(true);
      }),
      { numRuns: 20 },
    );
  });

  it('a key with a 0 word is kept shared as if that word were 1 (0 marks an empty slot)', () => {
    const v = new VisitedSet(undefined, VisitedSet.sharedBuffer(16));
    expect(v.has(0, 5)).toBe(false);
    expect(v.add(0, 5)).toBe(true);
    expect(v.add(1, 5)).toBe(false);
    expect(v.add(0, 0)).toBe(true);
    expect(v.has(1, 1)).toBe(true);
    expect(v.size).toBe(2);
  });

  it('tells (0, 0), the empty slot, from a key never added', () => {
    const set = new VisitedSet();
    expect(set.has(0, 0)).toBe(false);
    expect(set.add(0, 0)).toBe(true);
    expect(set.add(0, 0)).toBe(false);
    expect(set.has(0, 0)).toBe(true);
  });
  it('takes out the keys added since `mark` on rollback, whether or not the table grew meanwhile', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(fc.integer(), fc.integer()), { minLength: 2, maxLength: 3000, selector: (t) => `${t[0] | 0},${t[1] === 0 && t[0] === 0 ? 1 : t[1]}` }), fc.nat(), (keys, cut) => {
        const split = cut % keys.length;
        const s = new VisitedSet(1024);
        for (const [a, b] of keys.slice(0, split)) s.add(a, b);
        s.mark();
        for (const [a, b] of keys.slice(split)) s.add(a, b);
        s.rollback();
        expect(s.size).toBe(split);
        keys.forEach(([a, b], k) => {
          expect(s.has(a, b)).toBe(k < split);
        });
        // A committed run's keys stay.
        s.mark();
        for (const [a, b] of keys.slice(split)) s.add(a, b);
        s.commit();
        s.rollback();
        expect(s.size).toBe(keys.length);
      }),
      { numRuns: 60 },
    );
  });
});

describe('state keys', () => {
  it('start from the machine hash as two words, the same 64 bits as hash()', () => {
    const { machine } = buildCounterModel({ cpus: 2, work: 2, atomic: true });
    const words = new Int32Array(2);
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) {
      machine.hashWords(words);
      const hex = (words[0]! >>> 0).toString(16).padStart(8, '0') + (words[1]! >>> 0).toString(16).padStart(8, '0');
      expect(hex).toBe(machine.hash());
      seen.add(hex);
      machine.step(i % 2);
    }
    expect(seen.size).toBe(6);
  });

  it('differ when any word mixed in differs, and do not depend on anything else', () => {
    const key = (words: readonly number[]): string => {
      const k = new KeyBuilder();
      k.begin(0x1234, 0x5678);
      for (const w of words) k.mix(w);
      k.finish();
      return k.text();
    };
    expect(key([3, 1, 0, 7])).toBe(key([3, 1, 0, 7]));
    const seen = new Set<string>();
    for (let depth = 0; depth < 64; depth++) for (let budget = 0; budget < 4; budget++) seen.add(key([depth, budget]));
    expect(seen.size).toBe(256);
    expect(key([1, 2])).not.toBe(key([2, 1]));
  });

  it('digest texts to 64 bits that tell near-identical texts apart', () => {
    const out = new Int32Array(2);
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      digestText(`0,1,0:NMI${i.toString(36)},ff`, out);
      seen.add(`${out[0]},${out[1]}`);
    }
    expect(seen.size).toBe(2000);
  });
});
