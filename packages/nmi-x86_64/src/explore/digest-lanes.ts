/** Two 32-bit lanes over a sequence of words (Murmur-style steps), finished with an avalanche: a context's or a state's 64-bit digest. */
/** The largest double below 2⁶⁴. */
const LAST_BELOW_2_64 = 18446744073709549568;

export class Lanes {
  a = 0x3c6ef372;
  b = 0x1b873593;

  word(x: number): void {
    this.a = Math.imul(this.a ^ x, 0x85ebca6b);
    this.a ^= this.a >>> 13;
    this.b = Math.imul(this.b + x, 0xc2b2ae35) ^ (this.b >>> 15);
  }

  /**
   * A value below 2⁶⁴ as the two halves of Number(v), exact below 2⁵³; above, where Number rounds
   * (by less than 2¹¹), its low 12 bits follow. The high half says which (below 2²¹ or not), so no
   * two values give the same words. Values within 2¹⁰ of 2⁶⁴ (-1, an errno) round to 2⁶⁴, whose
   * high half 2³² would reach the lanes as 0 ("below 2²¹"): they take the largest double below
   * 2⁶⁴ instead, whose other values lie within 3072 of them, so their low 12 bits still differ.
   * One bigint operation at most (they allocate; this runs for every field of every NMI, #BP and
   * #PF delivered).
   */
  big(v: bigint): void {
    const n = Math.min(Number(v), LAST_BELOW_2_64);
    const lo = n % 4294967296;
    this.word(lo);
    this.word((n - lo) / 4294967296);
    if (v >= 0x20000000000000n) this.word(Number(v & 0xfffn));
  }

  finish(out: Int32Array): void {
    out[0] = fmix(this.a ^ Math.imul(this.b, 0x27d4eb2d));
    out[1] = fmix(this.b ^ out[0]);
  }
}

function fmix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}
