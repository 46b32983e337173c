import { KernelError } from './errors.js';

interface Item {
  readonly address: bigint;
  readonly bytes: Uint8Array;
}

/**
 * The kernel's data section, laid out in TypeScript before any code is assembled so the
 * code can name every object by its absolute address. Boot writes the initial bytes
 * into simulated memory; from then on only machine code changes them.
 */
export class DataArea {
  readonly base: bigint;
  readonly size: number;
  #next = 0;
  readonly #items = new Map<string, Item>();

  constructor(base: bigint, size: number) {
    this.base = base;
    this.size = size;
  }

  /** Reserves `bytes.length` bytes (initialised with them) under `name`. */
  put(name: string, bytes: Uint8Array, align = 16): bigint {
    if (this.#items.has(name)) throw new KernelError('KERNSIM_KERNEL_BAD_OPTIONS', `data object ${name} is defined twice`);
    this.#next = Math.ceil(this.#next / align) * align;
    if (this.#next + bytes.length > this.size) {
      throw new KernelError('KERNSIM_KERNEL_TABLE_FULL', `data area of ${this.size} bytes cannot hold ${name} (${bytes.length} bytes)`);
    }
    const address = this.base + BigInt(this.#next);
    this.#items.set(name, { address, bytes });
    this.#next += bytes.length;
    return address;
  }

  zeros(name: string, size: number, align = 16): bigint {
    return this.put(name, new Uint8Array(size), align);
  }

  /** A NUL-terminated Latin-1 string. */
  string(name: string, text: string): bigint {
    const bytes = new Uint8Array(text.length + 1);
    for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i) & 0xff;
    return this.put(name, bytes, 1);
  }

  /** Machine words (little-endian). */
  words(name: string, values: readonly bigint[], wordSize: 4 | 8): bigint {
    return this.put(name, packWords(values, wordSize));
  }

  address(name: string): bigint {
    const item = this.#items.get(name);
    if (!item) throw new KernelError('KERNSIM_KERNEL_UNKNOWN_SYMBOL', `no data object named ${name}`);
    return item.address;
  }

  has(name: string): boolean {
    return this.#items.has(name);
  }

  /** Every object, for boot to write and for symbol tables. */
  entries(): readonly (readonly [string, Item])[] {
    return [...this.#items];
  }
}

export function packWords(values: readonly bigint[], wordSize: 4 | 8): Uint8Array {
  const out = new Uint8Array(values.length * wordSize);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => {
    if (wordSize === 8) view.setBigUint64(i * 8, BigInt.asUintN(64, v), true);
    else view.setUint32(i * 4, Number(BigInt.asUintN(32, v)), true);
  });
  return out;
}
