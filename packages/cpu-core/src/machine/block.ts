import type { CpuState } from './cpu.js';
import { FL_TF, RUNNING } from './cpu.js';
import { F_XWATCH } from './frame.js';
import type { Frame } from './frame.js';
import type { DecodedOp } from './op.js';
import { compileBlock } from './block-compile.js';
import { sourceOf } from './block-source.js';
import type { BlockFn } from './block-compile.js';

/*
 * Basic blocks: runs of already-decoded fall-through instructions in one physical page,
 * cached by physical address (frame, offset) and run without going through `fetchOp` per
 * instruction. A block runs its instructions exactly as `burst` would — each one's closure,
 * then `instructions++` and its cost — and after each one it checks what `burst` checks
 * (a timed source due, a pending NMI/IRQ, TF, the CPU no longer running, the budget) plus
 * what makes the next `fetchOp` return the block's next instruction (RIP fell through, no
 * write changed the page, the code page's translation is still the cached one). When any
 * check fires it returns and the interpreter takes over at that instruction boundary.
 *
 * A block can be entered at any of its instructions, not only its first: every instruction
 * start it covers maps to (block, index) in the page's cache, so a burst that begins where an
 * earlier one stopped (a quantum or budget ending inside a block, an interrupt's return) runs
 * the rest of the block without building a block per entry point. Single steps (`step()`,
 * round-robin at quantum 1, the explorer) stay in the interpreter: measured, one instruction
 * through a block cost 10–20 % more than through the interpreter (the lookup and the call
 * outweigh the inlined body when the step ends after it), so the gain is in bursts only.
 *
 * Two tiers: a block first runs in `runLoop` over its closures; once hot it gets a function
 * generated with `new Function` in which the commonest instruction shapes are inlined as
 * source from their family's template (`block-source.ts`), every other closure has its own
 * call site (V8 can then inline its body), costs and offsets are literals, and RIP, the clock,
 * the count, the flags and the templates' registers stay in locals (`block-compile.ts`). Where
 * code generation is unavailable (a page's CSP forbids it) the loop tier stays.
 */

/** Entries into a start offset before a block is built there (the interpreter decodes the code first). */
const BUILD_AFTER = 8;
/** Runs of a block before its straight-line function is generated. */
const COMPILE_AFTER = 32;
/** Longest block, in instructions. */
const MAX_OPS = 64;

export class Block {
  runs = 0;
  fn: BlockFn | null = null;

  constructor(
    readonly ops: readonly DecodedOp[],
    /** Offset from the block's start of the instruction after each one. */
    readonly ends: readonly number[],
  ) {}

  /** Offset from the block's start of instruction `j`. */
  start(j: number): number {
    return j === 0 ? 0 : this.ends[j - 1]!;
  }
}

/**
 * Per-frame block cache, by instruction offset: the block covering it and the instruction's
 * index there, or (before a block covers it) how often it was entered.
 */
export interface BlockCache {
  readonly blocks: (Block | undefined)[];
  readonly index: Uint8Array;
  readonly heat: Uint8Array;
}

/** Index in the block `blockAt` returned last of the instruction at RIP (read by `runBlock` right after). */
let entry = 0;

/** Blocks built and compiled in this process (diagnostics: tests check that blocks actually ran). */
export const blockCounters = { built: 0, compiled: 0 };

/**
 * The block covering the CPU's RIP, if one may run now: the code page is the CPU's cached
 * translation, the cross-modifying-code rule has nothing to check, no execution watch is on
 * the page. `null` sends this instruction through the interpreter.
 */
export function blockAt(c: CpuState): Block | null {
  const lo = c.ipLo;
  if (c.codeVpn !== c.ipHi * 1048576 + (lo >>> 12)) return null;
  const f = c.codeFrame!;
  if (f.lastWriteSeq > c.serialSeq || (f.flags & F_XWATCH) !== 0 || f.ops === null) return null;
  const off = lo & 0xfff;
  const cache = (f.blocks ??= { blocks: new Array<Block | undefined>(4096).fill(undefined), index: new Uint8Array(4096), heat: new Uint8Array(4096) });
  const b = cache.blocks[off];
  if (b !== undefined) {
    entry = cache.index[off]!;
    return b;
  }
  if (++cache.heat[off]! < BUILD_AFTER) return null;
  const built = buildBlock(f.ops, off);
  if (built === null) {
    cache.heat[off] = 0;
    return null;
  }
  // Every instruction start the new block covers enters it there, unless an older block covers it already.
  for (let j = 0; j < built.ops.length; j++) {
    const o = off + built.start(j);
    if (cache.blocks[o] !== undefined) continue;
    cache.blocks[o] = built;
    cache.index[o] = j;
  }
  blockCounters.built++;
  entry = 0;
  return built;
}

function buildBlock(ops: readonly (DecodedOp | undefined)[], start: number): Block | null {
  const list: DecodedOp[] = [];
  const ends: number[] = [];
  let off = start;
  while (list.length < MAX_OPS && off < 4096) {
    const op = ops[off];
    if (op === undefined) break;
    list.push(op);
    off += op.len;
    ends.push(off - start);
    if (!op.next) break;
  }
  // One instruction makes a block only if it has a template (a `call` between two blocks, say):
  // through its closure it would cost what the interpreter's step does, and the closure, inlined
  // into the burst loop, calls its store out of line with the address halves boxed.
  if (list.length === 0 || (list.length === 1 && sourceOf(list[0]!.exec) === undefined)) return null;
  return new Block(list, ends);
}

/** Runs at most `left` instructions of `b` on `c` (at least one) from the instruction `blockAt` found; see the file comment for where it stops. */
export function runBlock(b: Block, c: CpuState, left: number): void {
  const f = c.codeFrame!;
  const j = entry;
  if (b.fn !== null) b.fn(c, left, f, f.lastWriteSeq, j);
  else {
    if (++b.runs === COMPILE_AFTER) {
      b.fn = compileBlock(b);
      if (b.fn !== null) blockCounters.compiled++;
    }
    runLoop(b, c, left, f, f.lastWriteSeq, c.ipLo - b.start(j), c.ipHi, j);
  }
}

function runLoop(b: Block, c: CpuState, left: number, f: Frame, seq: number, lo0: number, hi0: number, j0: number): void {
  const ops = b.ops;
  const k = Math.min(ops.length, j0 + left);
  for (let j = j0; j < k; j++) {
    const op = ops[j]!;
    op.exec(c);
    c.instructions++;
    c.cycles += op.cost;
    if (j === k - 1) return;
    if (c.cycles >= c.nextEvent || c.state !== RUNNING || c.nmiPending || c.irqCount !== 0 || (c.fl & FL_TF) !== 0) return;
    if (c.ipLo !== lo0 + b.ends[j]! || c.ipHi !== hi0 || f.lastWriteSeq !== seq || c.codeFrame !== f) return;
  }
}
