/**
 * Names addresses as `sym` or `sym+0xoff` (objdump's style) from a set of labels.
 * Lookups are a binary search over the sorted addresses.
 */
export class SymbolTable {
  readonly #addresses: bigint[] = [];
  readonly #names: string[] = [];
  readonly #byName = new Map<string, bigint>();

  constructor(symbols: Iterable<readonly [string, bigint]> = []) {
    const sorted = [...symbols].sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
    for (const [name, address] of sorted) {
      this.#byName.set(name, address);
      // At equal addresses keep the first name: traces should not flicker between aliases.
      if (this.#addresses[this.#addresses.length - 1] === address) continue;
      this.#addresses.push(address);
      this.#names.push(name);
    }
  }

  get size(): number {
    return this.#byName.size;
  }

  /** Address of a symbol, if known. */
  address(name: string): bigint | undefined {
    return this.#byName.get(name);
  }

  /** The nearest symbol at or below `address` with the offset, e.g. `nmi+0x1c`; undefined below the first symbol. */
  symbolize(address: bigint): string | undefined {
    const a = this.#addresses;
    let lo = 0;
    let hi = a.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if ((a[mid] ?? 0n) <= address) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (found < 0) return undefined;
    const off = address - (a[found] ?? 0n);
    const name = this.#names[found] ?? '';
    return off === 0n ? name : `${name}+0x${off.toString(16)}`;
  }
}
