import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { TextPatchingError } from './errors.js';
import { NOP5, breakpointStates, callBytes, hex, jmpBytes, rel32Target } from './forms.js';

describe('byte forms', () => {
  it('encodes the call the article shows at its listing (e8 af 71 00 00)', () => {
    const site = 0xffffffff81000004n;
    expect(hex(callBytes(site, site + 5n + 0x71afn))).toBe('e8 af 71 00 00');
    expect(hex(jmpBytes(site, site + 5n - 3n))).toBe('e9 fd ff ff ff');
  });

  it('decodes what it encodes, for any target within ±2 GiB', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(1n << 31n), max: (1n << 31n) - 1n }), fc.boolean(), (rel, call) => {
        const site = 0xffffffff81000000n;
        const target = site + 5n + rel;
        const bytes = call ? callBytes(site, target) : jmpBytes(site, target);
        expect(rel32Target(site, bytes)).toBe(target);
      }),
    );
  });

  it('refuses a target a rel32 cannot reach', () => {
    expect(() => callBytes(0n, 1n << 32n)).toThrow(expect.objectContaining({ code: 'KERNSIM_PATCH_BAD_SITE' }) as TextPatchingError);
  });

  it('moves a site through old, cc + old tail, cc + new tail, new', () => {
    const states = breakpointStates(NOP5, [0xe8, 0xaf, 0x71, 0x00, 0x00]).map(hex);
    expect(states).toEqual(['0f 1f 44 00 00', 'cc 1f 44 00 00', 'cc af 71 00 00', 'e8 af 71 00 00']);
    expect(() => breakpointStates(NOP5, [0xcc])).toThrow(TextPatchingError);
  });
});
