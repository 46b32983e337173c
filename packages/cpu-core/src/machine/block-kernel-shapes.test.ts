import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Assembler } from '../asm/assembler.js';
import { dword, imm, qword, reg } from '../asm/operands.js';
import type { Mem, Reg } from '../asm/operands.js';
import { LAYOUT32, LAYOUT64, kit } from '../testing/kit.js';
import { blockCounters } from './block.js';
import type { Machine } from './machine.js';

type Arch = 'x86_64' | 'i386';

/*
 * Differential fuzz of the kernel-shaped block templates (block-source.ts) against their
 * closures: programs made mostly of `op [mem], imm`, `op %reg, [mem]`, `inc`/`dec` of memory
 * (locked or not), shifts and rotates of a register by any immediate count, nops of 1 to 15
 * bytes, calls of local functions (some with RSP at 0, so the push and the pop wrap, or
 * misaligned, or across a page) and a closing `jmp` loop. Memory operands are absolute, base
 * plus displacement or `%gs:`/`%fs:` plus displacement — aligned, unaligned, across a page, or
 * on a read-only page so the store faults after the flags are computed (the #PF handler points
 * RBX and the segment base back at writable data and the access is retried). The same program
 * runs on an interpreter machine and a block machine over random budgets and quanta; after
 * each run memory, registers, RFLAGS, RIP, cycles and instructions must be the same (the
 * scratch fields `c.vh`, `c.rh`, `c.eaLo`/`eaHi` are not in `hash()`: only their effects are).
 */

/** The data area's size (kit maps 0x10000); the read-only page follows it directly, so an access can straddle both. */
const RO = 0x10000n;
/** The segment base in normal use, and the one a `segment-ro` piece sets (its last 0x100 bytes writable, then the read-only page). */
const SEG = 0x400n;
const SEG_RO = RO - 0x100n;
/** Where the #PF handler points RBX. */
const FIXED = 0x200n;

const KINDS = ['rmw', 'rmw', 'from-mem', 'incdec', 'incdec', 'shift', 'shift', 'shift', 'nop', 'call', 'segment-ro', 'flags'] as const;
interface Piece {
  readonly kind: (typeof KINDS)[number];
  readonly k: number;
  readonly at: number;
  readonly f: number;
}
interface Program {
  readonly arch: Arch;
  readonly cpus: 1 | 2;
  readonly loops: number;
  readonly body: readonly Piece[];
  readonly tail: readonly Piece[];
  readonly fns: readonly (readonly Piece[])[];
}

const ALU = ['add', 'sub', 'and', 'or', 'xor', 'cmp', 'test'] as const;
const SHIFTS = ['shl', 'shr', 'sar', 'rol', 'ror'] as const;
const R64 = [reg.rax, reg.rdx, reg.rsi, reg.rdi];
const R32 = [reg.eax, reg.edx, reg.esi, reg.edi];
/** Base + displacement: [RBX's offset in data, displacement] — aligned, unaligned, across a page, into or across the read-only page. */
const BASED: readonly (readonly [bigint, number])[] = [[FIXED, 0], [FIXED, 8], [FIXED, 0x13], [0x1000n, -2], [0x1000n, -4], [RO - 0x80n, 0x80], [RO - 0x80n, 0x7e], [RO - 0x80n, 0x7d], [RO - 0x80n, 0x40]];
/** Absolute offsets in data: aligned, unaligned, across a page. */
const ABSOLUTE = [0x600n, 0x608n, 0x60bn, 0x1ffen, 0x2ffcn, 0x3ff9n];
/** Segment displacements: with the normal base all in data; with the read-only one aligned, unaligned, across into, or on the read-only page. */
const SEGMENT = [0, 8, 0x0b, -8, -0x13, 0xf8, 0xfc, 0xfe, 0x100, 0x108, 0x1f3];
/** Shift counts: where the carry comes from the other half, where the count masks to 0, and any other (the last entry). */
const COUNTS = [0, 1, 31, 32, 33, 63, 64, -1];
/** A stack for a call: RSP 0 (push and pop wrap), misaligned, across a page; any other value is the CPU's own stack. */
const STACKS = [0n, 0n, 0x803n, 0x5004n];

type Emit = (name: string, ...ops: unknown[]) => Assembler;
const emitter = (a: Assembler): Emit => (name, ...ops) => (a as unknown as Record<string, (...o: unknown[]) => Assembler>)[name]!.call(a, ...ops);

interface Ctx {
  readonly a: Assembler;
  readonly arch: Arch;
  readonly data: bigint;
  readonly tag: string;
  readonly fns: number;
  /** In the jmp loop: no jcc, so the loop stays one block. */
  readonly tail: boolean;
}

/** A memory operand of the piece's choosing (RBX set first for the based form); `wide` 64-bit (x86_64 only). */
function address(x: Ctx, p: Piece, wide: boolean): Mem {
  const size = wide ? qword : dword;
  const rbx = x.arch === 'x86_64' ? reg.rbx : reg.ebx;
  const form = p.at % 3;
  if (form === 0) {
    const [base, disp] = BASED[(p.at >> 2) % BASED.length]!;
    x.a.mov(rbx, imm(x.data + base));
    return size(rbx, disp);
  }
  if (form === 1) return size(x.data + ABSOLUTE[(p.at >> 2) % ABSOLUTE.length]!);
  const disp = SEGMENT[(p.at >> 2) % SEGMENT.length]!;
  return x.arch === 'x86_64' ? size.gs(disp) : size.fs(disp);
}

/** Points the per-CPU segment's base (GS on x86_64, FS on i386) at `base` by wrmsr; RAX, RCX and RDX are saved. */
function setSegment(a: Assembler, arch: Arch, base: bigint): void {
  const w = arch === 'x86_64';
  const [ax, cx, dx] = w ? [reg.rax, reg.rcx, reg.rdx] : [reg.eax, reg.ecx, reg.edx];
  a.push(ax).push(cx).push(dx);
  a.mov(reg.ecx, imm(w ? 0xc0000101 : 0xc0000100)).mov(reg.eax, imm(base & 0xffffffffn)).mov(reg.edx, imm(base >> 32n)).wrmsr();
  a.pop(dx).pop(cx).pop(ax);
}

/** Reads the flags just written: CF by adc, all of them by pushf (a closure), or a jcc; or nothing. */
function observe(x: Ctx, p: Piece, r: Reg, s: Reg): void {
  const how = (p.at >> 12) & 3;
  if (how === 0) x.a.adc(s, r);
  else if (how === 1) x.a.pushf().pop(x.arch === 'x86_64' ? reg.rdi : reg.edi).add(s, r);
  else if (how === 2 && !x.tail) emitter(x.a)(['jo', 'jc', 'jz', 'js', 'jp', 'jl', 'jbe'][p.k % 7]!, `j${x.tag}`).sub(s, imm(1)).label(`j${x.tag}`);
}

function emit(x: Ctx, p: Piece): void {
  const { a, arch } = x;
  const op = emitter(a);
  const wide = arch === 'x86_64' && (p.k & 1) === 0;
  const R = wide ? R64 : R32;
  const r = R[(p.k >> 1) % 4]!;
  const s = R[(p.k >> 3) % 4]!;
  switch (p.kind) {
    case 'rmw': {
      const at = address(x, p, wide);
      if ((p.k & 0x30) === 0x30) a.lock();
      const name = ALU[(p.k >> 6) % ((p.k & 0x30) === 0x30 ? 5 : ALU.length)]!;
      op(name, at, imm((p.k & 0x100) !== 0 ? (p.k >> 9) - 32 : ((p.k * 0x9e3779b1) | 0) >> (p.k % 29)));
      observe(x, p, r, s);
      break;
    }
    case 'from-mem': {
      const at = address(x, p, wide);
      const rbx = wide ? reg.rbx : reg.ebx;
      // Sometimes the base register is the destination too; sometimes a plain load or store (the address templates' other users).
      if ((p.k & 0x600) === 0x600) a.mov(at, r);
      else op((p.k & 0x600) === 0x400 ? 'mov' : ALU[(p.k >> 6) % ALU.length]!, p.at % 3 === 0 && (p.k & 0x30) === 0 ? rbx : r, at);
      observe(x, p, r, s);
      break;
    }
    case 'incdec': {
      const at = address(x, p, wide);
      if ((p.k & 0x30) === 0x30) a.lock();
      op((p.k & 0x40) !== 0 ? 'inc' : 'dec', at);
      observe(x, p, r, s);
      break;
    }
    case 'shift': {
      const n = COUNTS[p.at % COUNTS.length]!;
      op(SHIFTS[(p.k >> 5) % SHIFTS.length]!, r, imm(n < 0 ? (p.at >> 4) & 0xff : n));
      observe(x, p, r, s);
      break;
    }
    case 'nop': {
      const n = 1 + (p.at % 15);
      if (n <= 9) a.nop(n);
      else a.db(...new Array<number>(n - 8).fill(0x66), 0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0);
      op(ALU[p.k % 5]!, r, imm(p.k & 0xff));
      break;
    }
    case 'call': {
      const sp = arch === 'x86_64' ? reg.rsp : reg.esp;
      const bp = arch === 'x86_64' ? reg.rbp : reg.ebp;
      const stack = STACKS[p.at % 6];
      if (stack !== undefined) a.mov(bp, sp).mov(sp, imm(stack === 0n ? 0n : x.data + stack));
      a.call(`f${p.f % x.fns}`);
      // RSP after the return (wrapped back to 0, say) into a register, then the own stack back.
      if (stack !== undefined) a.add(arch === 'x86_64' ? R64[p.k % 4]! : R32[p.k % 4]!, sp).mov(sp, bp);
      break;
    }
    case 'segment-ro':
      setSegment(a, arch, x.data + ((p.k & 1) === 0 ? SEG_RO : SEG));
      break;
    default:
      // Flags of whatever came before, into a register (pushf is a closure: the flag locals are written back).
      a.pushf().pop(arch === 'x86_64' ? reg.rdi : reg.edi).jo(`o${x.tag}`).add(r, imm(1)).label(`o${x.tag}`);
  }
}

function build(p: Program, execution: 'blocks' | 'interpreter'): Machine {
  const k = kit({ arch: p.arch, cpus: p.cpus, timing: 'modelled', execution });
  const wide = p.arch === 'x86_64';
  const data = k.layout.data;
  const a = k.asm();
  k.m.map(data + RO, 0x1000, { writable: false });
  // RSP 0: the page below 2⁶⁴ (or 2³²) and the one at 0.
  k.m.map(wide ? 0xfffffffffffff000n : 0xfffff000n, 0x1000);
  k.m.map(0n, 0x1000);
  const x = { a, arch: p.arch, data, fns: p.fns.length, tail: false };
  // Data not zero, so signs, carries and parities vary.
  for (let o = 0n, v = 0x2545f4914f6cdd1dn; o < 0x6000n; o += 8n) k.m.write(data + o, 8, (v = BigInt.asUintN(64, v * 6364136223846793005n + 1442695040888963407n)));
  // #PF: count it, point RBX and the segment base back at writable data, retry.
  a.label('pf').add(dword(data + 0x110n), imm(1)).mov(wide ? reg.rbx : reg.ebx, imm(data + FIXED));
  setSegment(a, p.arch, data + SEG);
  a.add(wide ? reg.rsp : reg.esp, imm(wide ? 8 : 4));
  if (wide) a.iretq();
  else a.iretd();
  a.label('start').mov(reg.ecx, imm(p.loops));
  a.label('loop');
  p.body.forEach((q, j) => { emit({ ...x, tag: `b${j}` }, q); });
  a.sub(reg.ecx, imm(1)).jne('loop');
  // A loop closed by a jmp (the block loops inside its function); it runs until the budget ends.
  a.label('tail').add(reg.ecx, imm(1));
  p.tail.forEach((q, j) => { emit({ ...x, tag: `t${j}`, tail: true }, q); });
  a.jmp('tail');
  p.fns.forEach((body, f) => {
    a.label(`f${f}`);
    body.forEach((q, j) => { emit({ ...x, tag: `f${f}_${j}` }, q); });
    a.ret();
  });
  k.m.loadCode(a.assemble());
  k.m.setGate(14, { handler: 'pf' });
  for (let i = 0; i < p.cpus; i++) {
    k.m.start(i, { rip: 'start', rsp: k.stackTop(i) });
    if (wide) k.m.cpus[i]!.gsBase = data + SEG;
    else k.m.cpus[i]!.fsBase = data + SEG;
    const c = k.m.cpus[i]!;
    (['rax', 'rdx', 'rsi', 'rdi'] as const).forEach((name, j) => { c.setReg(name, BigInt.asUintN(wide ? 64 : 32, 0x9e3779b97f4a7c15n * BigInt(j + i + 1))); });
  }
  return k.m;
}

const GPRS = ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp'] as const;

function state(m: Machine): string {
  const cpus = m.cpus.map((c) => `${c.status} ${c.rip.toString(16)} ${c.rflags.toString(16)} ${c.cycles} ${c.instructions} ${GPRS.map((r) => c.reg(r).toString(16)).join(' ')}`);
  return `${m.hash()} ${cpus.join('|')}`;
}

/** Pieces outside functions: calls are made only from the loop, so functions do not recurse. */
const piece = (kinds: readonly (typeof KINDS)[number][]): fc.Arbitrary<Piece> => fc.record({ kind: fc.constantFrom(...kinds), k: fc.nat(0xffff), at: fc.nat(0xffff), f: fc.nat(7) });
const NO_CALL = KINDS.filter((q) => q !== 'call');

const program = (arch: Arch): fc.Arbitrary<Program> =>
  fc.record({
    arch: fc.constant(arch),
    cpus: fc.constantFrom(1 as const, 1 as const, 2 as const),
    loops: fc.integer({ min: 20, max: 60 }),
    body: fc.array(piece(KINDS), { minLength: 2, maxLength: 14 }),
    tail: fc.array(piece(NO_CALL.filter((q) => q !== 'flags')), { minLength: 1, maxLength: 8 }),
    fns: fc.array(fc.array(piece(NO_CALL), { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 3 }),
  });

const runs = fc.array(fc.record({ steps: fc.integer({ min: 1, max: 900 }), quantum: fc.integer({ min: 2, max: 400 }) }), { minLength: 4, maxLength: 14 });

describe('kernel-shaped block templates against their closures', () => {
  for (const arch of ['x86_64', 'i386'] as const) {
    it(`${arch}: memory ALU forms, inc/dec, shifts, nops, calls and jmp loops leave the same state as the interpreter`, () => {
      const compiled = blockCounters.compiled;
      let faults = 0;
      fc.assert(
        fc.property(program(arch), runs, (p, budgets) => {
          const ref = build(p, 'interpreter');
          const fast = build(p, 'blocks');
          for (const m of [ref, fast]) m.run({ steps: 3000 * p.cpus, scheduler: { kind: 'round-robin', quantum: 500 } });
          expect(state(fast)).toBe(state(ref));
          for (const b of budgets) {
            for (const m of [ref, fast]) m.run({ steps: b.steps, scheduler: { kind: 'round-robin', quantum: b.quantum } });
            expect(state(fast)).toBe(state(ref));
          }
          faults += Number(fast.read((arch === 'x86_64' ? LAYOUT64 : LAYOUT32).data + 0x110n, 4));
        }),
        { numRuns: 100, seed: 4242 },
      );
      // Only worth something if blocks were compiled and templated stores faulted.
      expect(blockCounters.compiled).toBeGreaterThan(compiled);
      expect(faults).toBeGreaterThan(0);
    });
  }
});
