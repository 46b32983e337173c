import fc from 'fast-check';
import { Decoder, DecoderOptions } from 'iced-x86';
import { describe, expect, it } from 'vitest';
import type { CpuState } from './cpu.js';
import { eaFn } from './operands.js';

/*
 * `%gs:disp` / `%fs:disp` (no base, no index) has an address closure of its own; the same
 * address with a zero base register goes through the general one. Both must give the segment
 * base plus the displacement — sign-extended to 64 bits, or zero-extended from 32 under an
 * address-size override — modulo 2^64 (i386: 2^32, high half 0), for any base and displacement.
 */

const U64 = (1n << 64n) - 1n;

/** A CPU with only what an address computation reads: registers (rbx zero) and the segment bases (the one `prefix` does not name: another value). */
function cpuWith(regs: readonly bigint[], seg: bigint, prefix: number): CpuState {
  const lo = new Uint32Array(16);
  const hi = new Uint32Array(16);
  regs.forEach((v, i) => {
    lo[i] = Number(v & 0xffffffffn);
    hi[i] = Number((v >> 32n) & 0xffffffffn);
  });
  lo[3] = 0;
  hi[3] = 0;
  const l = Number(seg & 0xffffffffn);
  const h = Number((seg >> 32n) & 0xffffffffn);
  const [gl, gh, fl, fh] = prefix === 0x65 ? [l, h, ~l >>> 0, ~h >>> 0] : [~l >>> 0, ~h >>> 0, l, h];
  return { lo, hi, gsLo: gl, gsHi: gh, fsLo: fl, fsHi: fh, eaLo: -1, eaHi: -1 } as unknown as CpuState;
}

function address(bitness: 32 | 64, bytes: readonly number[], c: CpuState): bigint {
  const instr = new Decoder(bitness, new Uint8Array(bytes), DecoderOptions.None).decode();
  const ea = eaFn(instr, bitness === 64, false);
  if (ea === undefined) throw new Error(`no address form for ${bytes.map((b) => b.toString(16)).join(' ')}`);
  ea(c);
  return (BigInt(c.eaHi >>> 0) << 32n) | BigInt(c.eaLo >>> 0);
}

const le32 = (d: bigint): number[] => [0, 8, 16, 24].map((s) => Number((BigInt.asUintN(32, d) >> BigInt(s)) & 0xffn));

const baseArb = fc.oneof(
  fc.bigInt({ min: 0n, max: U64 }),
  fc.constantFrom(0n, 0xffffffffn, 0x100000000n, 0xfffffffffffff000n, U64, 0xffff888000000000n, 0x7fffffffffffffffn),
  fc.bigInt({ min: 0xffffffff00000000n, max: U64 }),
  fc.bigInt({ min: 0xfffff000n, max: 0x100000fffn }),
);
const dispArb = fc.oneof(fc.bigInt({ min: -0x80000000n, max: 0x7fffffffn }), fc.constantFrom(0n, -1n, 0x7fffffffn, -0x80000000n, 0x1000n, -0x1000n));
const regsArb = fc.array(fc.bigInt({ min: 0n, max: U64 }), { minLength: 16, maxLength: 16 });

describe('segment base plus displacement', () => {
  it('x86_64 %gs/%fs:disp32 is base + sign-extended disp mod 2^64, as with a zero base register', () => {
    fc.assert(
      fc.property(baseArb, dispArb, regsArb, fc.constantFrom(0x65, 0x64), (base, disp, regs, prefix) => {
        const want = (base + disp) & U64;
        // mov eax, seg:[disp32] (SIB without base or index) and mov eax, seg:[rbx + disp32].
        expect(address(64, [prefix, 0x8b, 0x04, 0x25, ...le32(disp)], cpuWith(regs, base, prefix))).toBe(want);
        expect(address(64, [prefix, 0x8b, 0x83, ...le32(disp)], cpuWith(regs, base, prefix))).toBe(want);
      }),
      { numRuns: 500 },
    );
  });

  it('x86_64 with an address-size override adds the displacement zero-extended from 32 bits', () => {
    fc.assert(
      fc.property(baseArb, dispArb, regsArb, fc.constantFrom(0x65, 0x64), (base, disp, regs, prefix) => {
        const want = (base + BigInt.asUintN(32, disp)) & U64;
        expect(address(64, [prefix, 0x67, 0x8b, 0x04, 0x25, ...le32(disp)], cpuWith(regs, base, prefix))).toBe(want);
        expect(address(64, [prefix, 0x67, 0x8b, 0x83, ...le32(disp)], cpuWith(regs, base, prefix))).toBe(want);
      }),
      { numRuns: 300 },
    );
  });

  it('x86_64 with an address-size override wraps base plus displacement to 32 bits before adding %fs/%gs', () => {
    // mov eax, seg:[ebx + disp32] with the 0x67 prefix: the 32-bit offset is formed (modulo 2^32)
    // and zero-extended first, then the segment base is added (SDM vol. 1, 3.3.7).
    fc.assert(
      fc.property(baseArb, dispArb, fc.bigInt({ min: 0n, max: U64 }), fc.constantFrom(0x65, 0x64), (base, disp, rbx, prefix) => {
        const regs = Array.from({ length: 16 }, () => 0n);
        const c = cpuWith(regs, base, prefix);
        c.lo[3] = Number(rbx & 0xffffffffn);
        c.hi[3] = Number(rbx >> 32n);
        const want = (base + BigInt.asUintN(32, (rbx & 0xffffffffn) + BigInt.asUintN(32, disp))) & U64;
        expect(address(64, [prefix, 0x67, 0x8b, 0x83, ...le32(disp)], c)).toBe(want);
      }),
      { numRuns: 300 },
    );
  });

  it('i386 %fs/%gs:disp32 wraps at 2^32 and leaves the high half 0', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 0xffffffffn }), dispArb, regsArb, fc.constantFrom(0x65, 0x64), (base, disp, regs, prefix) => {
        const want = BigInt.asUintN(32, base + disp);
        // mov eax, seg:[disp32] (mod 00, r/m 101) and mov eax, seg:[ebx + disp32].
        expect(address(32, [prefix, 0x8b, 0x05, ...le32(disp)], cpuWith(regs.map((r) => r & 0xffffffffn), base, prefix))).toBe(want);
        expect(address(32, [prefix, 0x8b, 0x83, ...le32(disp)], cpuWith(regs.map((r) => r & 0xffffffffn), base, prefix))).toBe(want);
      }),
      { numRuns: 300 },
    );
  });
});
