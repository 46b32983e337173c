import type { CpuState } from './cpu.js';
import { FL_TF, RUNNING } from './cpu.js';
import { F_XWATCH } from './frame.js';
import type { Frame } from './frame.js';
import type { DecodedOp } from './op.js';

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
 * Two tiers: a block first runs in `runLoop` over its closures; once hot it gets a function
 * generated with `new Function` in which every closure has its own call site (V8 can then
 * inline each instruction's body) and costs and offsets are literals. Where code generation
 * is unavailable (a page's CSP forbids it) the loop tier stays.
 */

/** Entries into a start offset before a block is built there (the interpreter decodes the code first). */
const BUILD_AFTER = 8;
/** Runs of a block before its straight-line function is generated. */
const COMPILE_AFTER = 32;
/** Longest block, in instructions. */
const MAX_OPS = 64;

type BlockFn = (c: CpuState, left: number, f: Frame, seq: number, lo0: number, hi0: number) => void;

export class Block {
  runs = 0;
  fn: BlockFn | null = null;

  constructor(
    readonly ops: readonly DecodedOp[],
    /** Offset from the block's start of the instruction after each one. */
    readonly ends: readonly number[],
  ) {}
}

/** Per-frame block cache: blocks (or the entry count before one is built) by start offset. */
export interface BlockCache {
  readonly blocks: (Block | undefined)[];
  readonly heat: Uint8Array;
}

let codegen = true;

/** Blocks built and compiled in this process (diagnostics: tests check that blocks actually ran). */
export const blockCounters = { built: 0, compiled: 0 };

/**
 * The block starting at the CPU's RIP, if one may run now: the code page is the CPU's cached
 * translation, the cross-modifying-code rule has nothing to check, no execution watch is on
 * the page. `null` sends this instruction through the interpreter.
 */
export function blockAt(c: CpuState): Block | null {
  const lo = c.ipLo;
  if (c.codeVpn !== c.ipHi * 1048576 + (lo >>> 12)) return null;
  const f = c.codeFrame!;
  if (f.lastWriteSeq > c.serialSeq || (f.flags & F_XWATCH) !== 0 || f.ops === null) return null;
  const off = lo & 0xfff;
  const cache = (f.blocks ??= { blocks: new Array<Block | undefined>(4096).fill(undefined), heat: new Uint8Array(4096) });
  const b = cache.blocks[off];
  if (b !== undefined) return b;
  if (++cache.heat[off]! < BUILD_AFTER) return null;
  const built = buildBlock(f.ops, off);
  if (built === null) {
    cache.heat[off] = 0;
    return null;
  }
  cache.blocks[off] = built;
  blockCounters.built++;
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
  return list.length < 2 ? null : new Block(list, ends);
}

/** Runs at most `left` instructions of `b` on `c` (at least one); see the file comment for where it stops. */
export function runBlock(b: Block, c: CpuState, left: number): void {
  const f = c.codeFrame!;
  if (b.fn !== null) b.fn(c, left, f, f.lastWriteSeq, c.ipLo, c.ipHi);
  else {
    if (++b.runs === COMPILE_AFTER && codegen) b.fn = compileBlock(b);
    runLoop(b, c, left, f, f.lastWriteSeq, c.ipLo, c.ipHi);
  }
}

function runLoop(b: Block, c: CpuState, left: number, f: Frame, seq: number, lo0: number, hi0: number): void {
  const ops = b.ops;
  const k = Math.min(ops.length, left);
  for (let j = 0; j < k; j++) {
    const op = ops[j]!;
    op.exec(c);
    c.instructions++;
    c.cycles += op.cost;
    if (j === k - 1) return;
    if (c.cycles >= c.nextEvent || c.state !== RUNNING || c.nmiPending || c.irqCount !== 0 || (c.fl & FL_TF) !== 0) return;
    if (c.ipLo !== lo0 + b.ends[j]! || c.ipHi !== hi0 || f.lastWriteSeq !== seq || c.codeFrame !== f) return;
  }
}

/** Generates the straight-line function of a block; null (and the loop tier for good) if code generation is refused. */
function compileBlock(b: Block): BlockFn | null {
  if (!b.ops.every((op) => Number.isFinite(op.cost))) return null;
  const params = b.ops.map((_, j) => `e${j}`);
  const lines: string[] = [];
  const last = b.ops.length - 1;
  b.ops.forEach((op, j) => {
    lines.push(`e${j}(c); c.instructions++; c.cycles += ${op.cost};`);
    if (j === last) return;
    lines.push(
      `if (left === ${j + 1} || c.cycles >= c.nextEvent || c.state !== ${RUNNING} || c.nmiPending || c.irqCount !== 0 || (c.fl & ${FL_TF}) !== 0 ` +
        `|| c.ipLo !== lo0 + ${b.ends[j]} || c.ipHi !== hi0 || f.lastWriteSeq !== seq || c.codeFrame !== f) return;`,
    );
  });
  try {
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- generated from numbers and closure parameters only
    const factory = new Function(...params, `return function block(c, left, f, seq, lo0, hi0) {\n${lines.join('\n')}\n};`) as (...e: unknown[]) => BlockFn;
    const fn = factory(...b.ops.map((op) => op.exec));
    blockCounters.compiled++;
    return fn;
  } catch {
    codegen = false;
    return null;
  }
}
