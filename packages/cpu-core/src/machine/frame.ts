import type { BlockCache } from './block.js';
import type { FrameImage } from './frame-image.js';
import type { DecodedOp } from './op.js';

/** Frame flag bits: any set bit sends writes down the slow path. */
export const F_CODE = 1;
export const F_PGD = 2;
export const F_WATCH = 4;
export const F_SHARED = 8;
export const F_TABLE = 16;
export const F_XWATCH = 32;
/** The frame's own bytes equal its `image` (a restore copied them in): the first write drops the image. */
export const F_CLEAN = 64;

export const PAGE = 4096;
export const CHUNK_SHIFT = 8;
export const CHUNKS = PAGE >> CHUNK_SHIFT;

/**
 * One 4 KiB physical frame. Besides its bytes it carries the decode cache of the code it
 * holds, the cross-modifying-code write log, and the per-chunk hashes that make the
 * machine's state hash incremental.
 */
export class Frame {
  data: Uint8Array;
  words: Int32Array;
  flags = 0;
  /** Decoded instructions by offset (only for frames code ran from). */
  ops: (DecodedOp | undefined)[] | null = null;
  /** Basic blocks built from `ops` (dropped whole when any of the page's code changes). */
  blocks: BlockCache | null = null;
  /** Write log for cross-modifying code: offset, old byte, sequence number, writer CPU. */
  logOff: number[] = [];
  logOld: number[] = [];
  logSeq: number[] = [];
  logCpu: number[] = [];
  lastWriteSeq = 0;
  dirtyMask = 0;
  /** Modelled timing: per 64-byte line, the CPU that wrote it last (id + 1, 0: none) and when its last transfer ends. */
  lineOwner: Int16Array | null = null;
  lineBusy: Float64Array | null = null;
  readonly chunkHash = new Int32Array(CHUNKS * 2);
  /**
   * The snapshot image this frame is equal to, or null once it may differ. Set by a capture or a
   * restore (which also mark the bytes shared); every change of the bytes, the write log, the
   * line ownership or the chunk hashes goes through a write, and the first write after a capture
   * or restore unshares the frame, which drops the image. Lets snapshots reuse the images of
   * untouched frames and restores skip them.
   */
  image: FrameImage | null = null;

  constructor(
    readonly pfn: number,
    data?: Uint8Array,
  ) {
    this.data = data ?? new Uint8Array(PAGE);
    this.words = new Int32Array(this.data.buffer, this.data.byteOffset, PAGE >> 2);
  }

  /** Gives this frame a private copy of its bytes (copy-on-write after a snapshot). */
  unshare(): void {
    this.data = this.data.slice();
    this.words = new Int32Array(this.data.buffer, 0, PAGE >> 2);
    this.flags &= ~F_SHARED;
    this.image = null;
  }

  /** Before the first write after a snapshot or restore (F_SHARED or F_CLEAN set): the bytes become this frame's own and stop equalling the image. */
  release(): void {
    if ((this.flags & F_SHARED) !== 0) this.unshare();
    this.flags &= ~F_CLEAN;
    this.image = null;
  }

  adopt(data: Uint8Array): void {
    this.data = data;
    this.words = new Int32Array(data.buffer, data.byteOffset, PAGE >> 2);
  }
}

/** Hashes one 256-byte chunk into two 32-bit lanes (written to out[0], out[1]). */
export function hashChunk(f: Frame, chunk: number, out: Int32Array): void {
  const w = f.words;
  const base = chunk << (CHUNK_SHIFT - 2);
  let a = Math.imul(f.pfn * CHUNKS + chunk + 1, 0x9e3779b1) | 0;
  let b = Math.imul(a ^ 0x7f4a7c15, 0x85ebca6b) | 0;
  let any = 0;
  for (let i = 0; i < 64; i++) {
    const x = w[base + i]!;
    any |= x;
    a = Math.imul(a ^ x, 0x85ebca6b);
    a ^= a >>> 13;
    b = Math.imul(b + x, 0xc2b2ae35) ^ (b >>> 15);
  }
  // All-zero chunks hash to zero so untouched memory costs nothing in the XOR sum.
  out[0] = any === 0 ? 0 : a;
  out[1] = any === 0 ? 0 : b;
}
