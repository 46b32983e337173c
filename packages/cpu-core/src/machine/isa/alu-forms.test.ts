import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Assembler } from '../../asm/assembler.js';
import { byte, dword, imm, qword, reg, word } from '../../asm/operands.js';
import type { Mem, MemBuilder, Reg } from '../../asm/operands.js';
import type { RegName } from '../cpu-view.js';
import { kit } from '../../testing/kit.js';

/*
 * The memory forms of the ALU ops (`op [mem], imm`, `op %reg, [mem]`), inc/dec on memory and
 * shifts of a register by an immediate each run in a closure of their own. Each property runs
 * such a form and a form the general closures (or the register paths) execute on the same
 * machine state, and wants the same registers, flags, memory, fault and rip: `op [mem], %reg`
 * with the register holding the immediate, `op %reg, %reg2` with reg2 holding the memory
 * value, `add/sub [mem], %reg` holding 1 (CF aside), a shift by %cl holding the count.
 */

type Arch = 'x86_64' | 'i386';
type Size = 1 | 2 | 4 | 8;
type Emit = (a: Assembler, d: Reg | Mem, s: Reg | Mem | bigint) => Assembler;

const ALU: Readonly<Record<string, Emit>> = {
  add: (a, d, s) => a.add(d, typeof s === 'bigint' ? imm(s) : s),
  or: (a, d, s) => a.or(d, typeof s === 'bigint' ? imm(s) : s),
  adc: (a, d, s) => a.adc(d, typeof s === 'bigint' ? imm(s) : s),
  sbb: (a, d, s) => a.sbb(d, typeof s === 'bigint' ? imm(s) : s),
  and: (a, d, s) => a.and(d, typeof s === 'bigint' ? imm(s) : s),
  sub: (a, d, s) => a.sub(d, typeof s === 'bigint' ? imm(s) : s),
  xor: (a, d, s) => a.xor(d, typeof s === 'bigint' ? imm(s) : s),
  cmp: (a, d, s) => a.cmp(d, typeof s === 'bigint' ? imm(s) : s),
  test: (a, d, s) => a.test(d, typeof s === 'bigint' ? imm(s) : s),
};

const SHIFT: Readonly<Record<string, (a: Assembler, d: Reg, n: Reg | bigint) => Assembler>> = {
  shl: (a, d, n) => a.shl(d, typeof n === 'bigint' ? imm(n) : n),
  shr: (a, d, n) => a.shr(d, typeof n === 'bigint' ? imm(n) : n),
  sar: (a, d, n) => a.sar(d, typeof n === 'bigint' ? imm(n) : n),
  rol: (a, d, n) => a.rol(d, typeof n === 'bigint' ? imm(n) : n),
  ror: (a, d, n) => a.ror(d, typeof n === 'bigint' ? imm(n) : n),
};

const MEM: Readonly<Record<Size, MemBuilder>> = { 1: byte, 2: word, 4: dword, 8: qword };
const NAMES64: readonly RegName[] = ['rax', 'rcx', 'rdx', 'rbx', 'rsi', 'rdi', 'rbp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];
const NAMES32: readonly RegName[] = ['eax', 'ecx', 'edx', 'ebx', 'esi', 'edi', 'ebp'];
/** Sized registers by family: the source/count register (rcx) and the memory value's stand-in (rdx). */
const RCX: Readonly<Record<Size, Reg>> = { 1: reg.cl, 2: reg.cx, 4: reg.ecx, 8: reg.rcx };
const RDX: Readonly<Record<Size, Reg>> = { 1: reg.dl, 2: reg.dx, 4: reg.edx, 8: reg.rdx };
/** Destinations: the high-byte registers and r8..r15 included where the encoding allows them. */
const DESTS: Readonly<Record<Size, readonly Reg[]>> = {
  1: [reg.al, reg.ah, reg.bh, reg.dh, reg.bl],
  2: [reg.ax, reg.si, reg.bp],
  4: [reg.eax, reg.esi, reg.edi, reg.r9d, reg.r15d],
  8: [reg.rax, reg.rsi, reg.r9, reg.r15],
};
const FLAGS = 0x8d5n; // CF PF AF ZF SF OF

/** Where the memory operand points: a writable page, a read-only page (the write faults) or nowhere (the read faults). */
type Page = 'data' | 'ro' | 'none';
/** How it is addressed: an absolute address, %rbx/%ebx plus a displacement, or %gs (i386: %fs) plus a displacement. */
type Form = 'abs' | 'base' | 'seg';

interface Case {
  readonly arch: Arch;
  readonly size: Size;
  readonly page: Page;
  readonly form: Form;
  /** Offset in the page (some accesses cross into the next page). */
  readonly off: number;
  /** The displacement of a segment form (the segment base makes up the rest, wrapping where it must). */
  readonly segDisp: bigint;
  readonly regs: readonly bigint[];
  readonly flags: bigint;
  readonly memory: bigint;
}

function pageAt(arch: Arch, page: Page): bigint {
  const data = arch === 'x86_64' ? 0xffffffff82000000n : 0xe2000000n;
  return page === 'data' ? data : page === 'ro' ? data + 0x20000n : data + 0x40000n;
}

function memOperand(c: Case): Mem {
  const mb = MEM[c.size];
  const page = pageAt(c.arch, c.page);
  if (c.form === 'abs') return mb(page + BigInt(c.off));
  if (c.form === 'base') return mb(c.arch === 'x86_64' ? reg.rbx : reg.ebx, c.off);
  return c.arch === 'x86_64' ? mb.gs(c.segDisp) : mb.fs(c.segDisp);
}

/** Runs `emit` from `c`'s state; returns everything a form could change. */
function outcome(c: Case, emit: (a: Assembler) => Assembler, set: Partial<Record<RegName, bigint>> = {}) {
  const k = kit({ arch: c.arch });
  const is64 = c.arch === 'x86_64';
  const page = pageAt(c.arch, c.page);
  const ro = pageAt(c.arch, 'ro');
  k.m.map(ro, 0x2000, { writable: false });
  const a = k.asm();
  a.label('start');
  emit(a);
  a.label('done').hlt();
  k.m.loadCode(a.assemble());
  k.m.start(0, { rip: 'start', rsp: k.stackTop(0) });
  const cpu = k.m.cpus[0]!;
  const names = is64 ? NAMES64 : NAMES32;
  names.forEach((n, i) => {
    cpu.setReg(n, BigInt.asUintN(is64 ? 64 : 32, c.regs[i]!));
  });
  cpu.setReg(is64 ? 'rbx' : 'ebx', page);
  for (const [n, v] of Object.entries(set)) cpu.setReg(n as RegName, v);
  cpu.rflags = 2n | c.flags;
  const target = page + BigInt(c.off);
  const width = is64 ? 64 : 32;
  if (is64) cpu.gsBase = BigInt.asUintN(width, target - c.segDisp);
  else cpu.fsBase = BigInt.asUintN(width, target - c.segDisp);
  if (c.page !== 'none') k.m.write(target, c.size, BigInt.asUintN(c.size * 8, c.memory));
  k.m.run({ steps: 4 });
  const fault = cpu.lastFault;
  return {
    regs: names.map((n) => cpu.reg(n)),
    flags: cpu.rflags,
    // Relative to the label it is at or past: the forms' encodings differ in length.
    rip: where(cpu.rip, k.m.address('start'), k.m.address('done')),
    status: cpu.status,
    fault: fault ? { vector: fault.vector, errorCode: fault.errorCode, rip: fault.rip } : null,
    cr2: cpu.cr2,
    memory: c.page === 'none' ? null : Array.from(k.m.readBytes(page, 0x2000)),
  };
}

function where(rip: bigint, start: bigint, done: bigint): string {
  return rip >= done ? `done+${rip - done}` : `start+${rip - start}`;
}

const caseArb = (pages: readonly Page[]): fc.Arbitrary<Case> =>
  fc
    .record({
      arch: fc.constantFrom<Arch>('x86_64', 'i386'),
      size: fc.constantFrom<Size>(1, 2, 4, 8),
      page: fc.constantFrom(...pages),
      form: fc.constantFrom<Form>('abs', 'base', 'seg'),
      off: fc.oneof(fc.constantFrom(0, 8, 0xff8, 0xffc, 0xffd, 0xfff), fc.integer({ min: 0, max: 0xff8 })),
      segDisp: fc.oneof(fc.constantFrom(0n, 0x7fffffffn, -0x80000000n, -1n), fc.bigInt({ min: -0x80000000n, max: 0x7fffffffn })),
      regs: fc.array(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), { minLength: 15, maxLength: 15 }),
      flags: fc.bigInt({ min: 0n, max: 0xfffn }).map((f) => f & FLAGS),
      memory: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    })
    .map((c) => ({ ...c, size: c.arch === 'i386' && c.size === 8 ? 4 : c.size, off: c.page === 'data' ? c.off : Math.min(c.off, 0xff8) }));

/** An immediate the encoding takes at this size (8-bit sign-extended forms and the full ones). */
const immArb = fc.oneof(fc.integer({ min: -128, max: 127 }), fc.integer({ min: -0x80000000, max: 0x7fffffff }), fc.constantFrom(0, -1, 0x7f, -0x80, 0x80, 0x7fffffff, -0x80000000));

function immFor(size: Size, v: number): bigint {
  return size === 1 ? BigInt.asIntN(8, BigInt(v)) : size === 2 ? BigInt.asIntN(16, BigInt(v)) : BigInt(v);
}

/** The full name of the rcx or rdx register on this machine. */
function full(arch: Arch, r: 'rcx' | 'rdx'): RegName {
  return arch === 'x86_64' ? r : r === 'rcx' ? 'ecx' : 'edx';
}

/** `v` placed in the low `size` bytes of `old` (what a move into the sized register would leave). */
function withLow(old: bigint, size: Size, v: bigint, arch: Arch): bigint {
  const bits = BigInt(size * 8);
  const keep = BigInt.asUintN(arch === 'x86_64' ? 64 : 32, old) & ~((1n << bits) - 1n);
  return keep | BigInt.asUintN(size * 8, v);
}

describe('ALU memory forms and shifts by an immediate compute what the general forms compute', () => {
  it('op [mem], imm equals op [mem], %reg holding the immediate, faults included', () => {
    fc.assert(
      fc.property(caseArb(['data', 'ro', 'none']), fc.constantFrom(...Object.keys(ALU)), immArb, (c, op, raw) => {
        const v = immFor(c.size, raw);
        const rcx = full(c.arch, 'rcx');
        const set = { [rcx]: withLow(c.regs[1]!, c.size, v, c.arch) };
        const fast = outcome(c, (a) => ALU[op]!(a, memOperand(c), v), set);
        const general = outcome(c, (a) => ALU[op]!(a, memOperand(c), RCX[c.size]), set);
        expect(fast).toEqual(general);
      }),
      { numRuns: 300 },
    );
  });

  it('op %reg, [mem] equals op %reg, %reg2 holding the memory value (32-bit destinations zero-extend, ah..bh stay 8-bit)', () => {
    fc.assert(
      fc.property(caseArb(['data', 'none']), fc.constantFrom(...Object.keys(ALU).filter((o) => o !== 'test')), fc.nat(), (c, op, pick) => {
        const dests = DESTS[c.size].filter((r) => c.arch === 'x86_64' || r.number < 8);
        const d = dests[pick % dests.length]!;
        const rdx = full(c.arch, 'rdx');
        const set = { [rdx]: withLow(c.regs[2]!, c.size, c.memory, c.arch) };
        const fast = outcome(c, (a) => ALU[op]!(a, d, memOperand(c)), set);
        // Unmapped: the read faults before anything changes, as a plain load from there does.
        const reference = outcome(c, (a) => (c.page === 'none' ? a.mov(RDX[c.size], memOperand(c)) : ALU[op]!(a, d, RDX[c.size])), set);
        expect(fast).toEqual(reference);
      }),
      { numRuns: 300 },
    );
  });

  it('inc/dec [mem] equals add/sub [mem], %reg holding 1, except that CF stays as it was', () => {
    fc.assert(
      fc.property(caseArb(['data', 'ro', 'none']), fc.boolean(), (c, inc) => {
        const rcx = full(c.arch, 'rcx');
        const set = { [rcx]: withLow(c.regs[1]!, c.size, 1n, c.arch) };
        const fast = outcome(c, (a) => (inc ? a.inc(memOperand(c)) : a.dec(memOperand(c))), set);
        const general = outcome(c, (a) => ALU[inc ? 'add' : 'sub']!(a, memOperand(c), RCX[c.size]), set);
        // CF as it came in; every other flag as add/sub left it.
        expect(fast.flags & 1n).toBe(c.flags & 1n);
        expect({ ...fast, flags: fast.flags & ~1n }).toEqual({ ...general, flags: general.flags & ~1n });
      }),
      { numRuns: 200 },
    );
  });

  it('a shift of a register by an immediate equals the shift by %cl holding the count (masked as before)', () => {
    fc.assert(
      fc.property(caseArb(['data']), fc.constantFrom(...Object.keys(SHIFT)), fc.integer({ min: 0, max: 255 }), fc.nat(), (c, op, n, pick) => {
        const dests = DESTS[c.size].filter((r) => c.arch === 'x86_64' || r.number < 8);
        const d = dests[pick % dests.length]!;
        const rcx = full(c.arch, 'rcx');
        const set = { [rcx]: withLow(c.regs[1]!, 1, BigInt(n), c.arch) };
        const byImm = outcome(c, (a) => SHIFT[op]!(a, d, BigInt(n)), set);
        const byCl = outcome(c, (a) => SHIFT[op]!(a, d, reg.cl), set);
        expect(byImm).toEqual(byCl);
      }),
      { numRuns: 300 },
    );
  });
});
