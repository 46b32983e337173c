import { FL_TF, RUNNING } from './cpu.js';
import type { CpuState } from './cpu.js';
import type { Frame } from './frame.js';
import type { DecodedOp } from './op.js';
import { FLAG_LOCALS, HELPERS, sourceOf } from './block-source.js';
import type { OpSource } from './block-source.js';

/*
 * The block compiler's code generation. A block becomes one function: a `switch` on the entry
 * index whose cases fall through, one per instruction, in a loop. What every instruction
 * writes — RIP, the clock, the instruction count, the six arithmetic flags and the result's
 * high half — and the registers the inlined templates name live in locals; they are written
 * back to the CPU only where something outside the function could read them: at every exit
 * (each after-instruction check that fails), before each closure call (the closure reads and
 * writes the CPU) and, for a template that calls `rd`/`wr`, when it faults (the clock is
 * written before the access, which may charge a line transfer, and read back after). A local
 * is loaded where a template first reads it — not on entry, not after every closure call —
 * and only the locals changed since the last write-back are written back (`Where` below), so
 * a straight run of inlined instructions touches the CPU object not at all, and a run of
 * closure calls costs what the interpreter's loop does.
 *
 * A block whose last instruction is a conditional jump back to one of its own instructions
 * loops inside the function instead of returning to the burst loop, after the same checks the
 * burst loop and `blockAt` would make before entering it again: the budget, the clock, the
 * target is that instruction of this page. Everything else they check (CPU state, pending
 * events, TF, the code page's translation and write sequence) only a closure call or a
 * memory access can change, and the full check after each of those has already passed.
 */

/**
 * A block's generated function: runs from instruction `j` (RIP is its address) with at most
 * `left` instructions. It works out the block's start address itself: passed in, the halves
 * of a kernel address (2³⁰ or more) would be boxed at every call.
 */
export type BlockFn = (c: CpuState, left: number, f: Frame, seq: number, j: number) => void;

/** What a compiler needs of a block: its instructions and where each ends (offset from the block's start). */
export interface CompiledShape {
  readonly ops: readonly DecodedOp[];
  readonly ends: readonly number[];
}

/** Locals that mirror CPU fields: local name → [how the field is loaded into it, how it is stored back]. */
const FIELDS: Readonly<Record<string, readonly [string, string]>> = {
  ipl: ['c.ipLo', 'c.ipLo = ipl;'],
  iph: ['c.ipHi', 'c.ipHi = iph;'],
  cyc: ['c.cycles', 'c.cycles = cyc;'],
  ins: ['c.instructions', 'c.instructions = ins;'],
  ...FLAG_LOCALS,
};

/** A register half's local: `l_3` is `L[3]`. */
const half = (local: string): string => `${local.startsWith('l_') ? 'L' : 'H'}[${local.slice(2)}]`;
const loadOf = (local: string): string => (local === 'ne' ? 'c.nextEvent' : (FIELDS[local]?.[0] ?? half(local)));
const store = (locals: Iterable<string>): string => [...locals].map((v) => FIELDS[v]?.[1] ?? `${half(v)} = ${v};`).join(' ');
const load = (locals: Iterable<string>): string => [...locals].map((v) => `${v} = ${loadOf(v)};`).join(' ');

const NAMES = /\b(cf|af|of|zr|sr|pr|rh|ipl|iph|ins|cyc|[lh]_\d+)\b/g;

interface Step {
  readonly src: OpSource | undefined;
  /** The template with its registers renamed to locals. */
  readonly code: string;
  /** Locals it reads (their values must be in the local first) and writes. */
  readonly reads: ReadonlySet<string>;
  readonly writes: ReadonlySet<string>;
}

function stepOf(op: DecodedOp, cost: number, regs: Set<string>): Step {
  const src = sourceOf(op.exec);
  if (src === undefined) return { src, code: '', reads: new Set(), writes: new Set() };
  // Every instruction counts itself and charges its cost in the locals; every check reads the next event.
  const code = `${src.code.replace(/\b([LH])\[(\d+)\]/g, (_, a: string, n: string) => `${a === 'L' ? 'l' : 'h'}_${n}`)} ins++; cyc += ${cost};`;
  const reads = new Set(['ne']);
  const writes = new Set<string>();
  // An assignment's right-hand side is read before its target is written: `l_6 = l_6` (`mov %esi,%esi`) reads l_6.
  const pending: { name: string; end: number }[] = [];
  for (const m of code.matchAll(NAMES)) {
    const name = m[1]!;
    while (pending.length > 0 && pending[0]!.end < m.index) writes.add(pending.shift()!.name);
    if (name[1] === '_') regs.add(name);
    const rest = code.slice(m.index + name.length);
    const assigned = /^\s*=(?!=)/.test(rest);
    // A use before the template's first write of it needs the value (`x++`, `x += …`, `x >>>= …` included).
    if (!assigned && !writes.has(name)) reads.add(name);
    if (assigned) {
      const end = code.indexOf(';', m.index);
      pending.push({ name, end: end < 0 ? code.length : end });
    } else if (/^\s*(\+\+|\+=|>>>=)/.test(rest)) writes.add(name);
  }
  for (const p of pending) writes.add(p.name);
  return { src, code, reads, writes };
}

/** Index of the instruction a final jump to `target` lands on, if it is one of the block's own (the same page, by the decoded addresses). */
function loopTarget(b: CompiledShape, last: Step): number {
  const jump = last.src?.jump;
  if (jump === undefined || jump.target[1] !== jump.next[1]) return -1;
  // The jump's next RIP is the block's end, so the target's offset from the block's start follows.
  const off = jump.target[0] - (jump.next[0] - b.ends[b.ends.length - 1]!);
  for (let k = 0; k < b.ops.length; k++) if ((k === 0 ? 0 : b.ends[k - 1]) === off) return k;
  return -1;
}

/**
 * Where each local's value is, before and after each instruction: `valid` — the local holds
 * it; `dirty` — the local holds it and the CPU field does not (dirty implies valid; a local
 * not dirty has its value in the field). At entry and after a closure call nothing is valid,
 * so a template loads what it reads first; where paths meet (fall-through into a loop's
 * target, the jump back to it) a local valid on one path is loaded on the other.
 */
interface Where {
  readonly valid: Set<string>;
  readonly dirty: Set<string>;
}

function after(s: Step, w: Where): Where {
  if (s.src === undefined) return { valid: new Set(['ins', 'cyc', 'ne']), dirty: new Set(['ins', 'cyc']) };
  return { valid: new Set([...w.valid, ...s.reads, ...s.writes]), dirty: new Set([...w.dirty, ...s.writes]) };
}

function places(steps: readonly Step[], loopTo: number): { before: Where[]; afterOp: Where[] } {
  const n = steps.length;
  const before: Where[] = steps.map(() => ({ valid: new Set<string>(), dirty: new Set<string>() }));
  const afterOp: Where[] = steps.map(() => ({ valid: new Set<string>(), dirty: new Set<string>() }));
  for (let changed = true; changed; ) {
    changed = false;
    for (let j = 0; j < n; j++) {
      const size = before[j]!.valid.size + before[j]!.dirty.size;
      const into = [j > 0 ? afterOp[j - 1]! : null, j === loopTo ? afterOp[n - 1]! : null];
      for (const w of into) {
        if (w === null) continue;
        for (const v of w.valid) before[j]!.valid.add(v);
        for (const v of w.dirty) before[j]!.dirty.add(v);
      }
      afterOp[j] = after(steps[j]!, before[j]!);
      if (before[j]!.valid.size + before[j]!.dirty.size !== size) changed = true;
    }
  }
  return { before, afterOp };
}

const minus = (a: ReadonlySet<string>, b: ReadonlySet<string>): string[] => [...a].filter((v) => !b.has(v));

const EVENTS = `c.state !== ${RUNNING} || c.nmiPending || c.irqCount !== 0 || (c.fl & ${FL_TF}) !== 0 || f.lastWriteSeq !== seq || c.codeFrame !== f`;

/** The source of one instruction and the check after it; `closures` collects the closures called. */
function caseSource(b: CompiledShape, j: number, s: Step, at: { before: Where; after: Where; next: Where | null; loopTo: number }, closures: unknown[]): string {
  const op = b.ops[j]!;
  let body: string;
  let check: string;
  if (s.src === undefined) {
    closures.push(op.exec);
    body = `${store(at.before.dirty)} e${closures.length - 1}(c); ins = c.instructions + 1; cyc = c.cycles + ${op.cost}; ne = c.nextEvent;`;
    check = `${EVENTS} || c.ipLo !== lo0 + ${b.ends[j]} || c.ipHi !== hi0`;
  } else if (s.src.kind === 'memory') {
    // The access reads and may charge the clock; a fault leaves with the state before the instruction.
    const code = s.code.replace(/ ins\+\+; cyc \+= [^;]+;$/, '');
    body = `${load(minus(s.reads, at.before.valid))} c.cycles = cyc; try { ${code} } catch (x) { ${store(minus(at.before.dirty, new Set(['cyc'])))} throw x; } cyc = c.cycles; ins++; cyc += ${op.cost};`;
    // A load or store can charge a line transfer, write this page (its code) or a page table (which flushes the TLB); nothing else the checks read.
    check = 'f.lastWriteSeq !== seq || c.codeFrame !== f';
  } else {
    body = `${load(minus(s.reads, at.before.valid))} ${s.code}`;
    check = '';
  }
  const exit = `{ ${store(at.after.dirty)} return; }`;
  const stop = `--left === 0 || cyc >= ne${check === '' ? '' : ` || ${check}`}`;
  // Going on to the next instruction (or back to the loop's target): load what is valid there but not here.
  const fix = at.next === null ? '' : load(minus(at.next.valid, at.after.valid));
  if (j < b.ops.length - 1) return `case ${j}: ${body}\nif (${stop}) ${exit}\n${fix}`;
  if (at.loopTo < 0) return `case ${j}: ${body}\n${exit}`;
  const back = `ipl !== lo0 + ${at.loopTo === 0 ? 0 : b.ends[at.loopTo - 1]} || iph !== hi0`;
  return `case ${j}: ${body}\nif (${stop} || ${back}) ${exit}\n${fix} j = ${at.loopTo}; continue;`;
}

/** The function's source and the closures it calls (its parameters `e0`, `e1`…). */
export function blockSource(b: CompiledShape): { source: string; closures: unknown[] } {
  const regs = new Set<string>();
  const steps = b.ops.map((op) => stepOf(op, op.cost, regs));
  const last = steps.length - 1;
  const loopTo = loopTarget(b, steps[last]!);
  const { before, afterOp } = places(steps, loopTo);
  const closures: unknown[] = [];
  const cases = steps.map((s, j) => {
    const next = j < last ? before[j + 1]! : loopTo >= 0 ? before[loopTo]! : null;
    return caseSource(b, j, s, { before: before[j]!, after: afterOp[j]!, next, loopTo }, closures);
  });
  // Entering at instruction j, the locals valid there are loaded once.
  const entries = before.map((w, j) => `case ${j}: lo0 = c.ipLo - ${j === 0 ? 0 : b.ends[j - 1]}; ${load(w.valid)} break;`).join('\n');
  const all = [...Object.keys(FIELDS), 'ne', ...[...regs].sort()];
  const source = `const L = c.lo; const H = c.hi; const hi0 = c.ipHi; let lo0 = 0; let ${all.map((v) => `${v} = 0`).join(', ')};\nswitch (j) {\n${entries}\n}\nfor (;;) { switch (j) {\n${cases.join('\n')}\n} return; }`;
  return { source, closures };
}

let codegen = true;

/**
 * Generates the block's function (see the file comment). Null (and the caller's loop tier
 * for good) if code generation is refused, as under a page's CSP.
 */
export function compileBlock(b: CompiledShape): BlockFn | null {
  if (!codegen || !b.ops.every((op) => Number.isFinite(op.cost))) return null;
  const { source, closures } = blockSource(b);
  try {
    const helpers = Object.keys(HELPERS);
    const params = closures.map((_, k) => `e${k}`);
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- generated from numbers, closure parameters and the templates of block-source.ts only
    const factory = new Function(...helpers, ...params, `return function block(c, left, f, seq, j) {\n${source}\n};`) as (...e: unknown[]) => BlockFn;
    return factory(...Object.values(HELPERS), ...closures);
  } catch {
    codegen = false;
    return null;
  }
}
