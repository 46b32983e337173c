import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Assembler } from '../asm/assembler.js';
import { byte, dword, imm, qword, reg } from '../asm/operands.js';
import { LAYOUT32, LAYOUT64, kit } from '../testing/kit.js';
import { blockCounters } from './block.js';
import type { Machine, Snapshot } from './machine.js';

type Arch = 'x86_64' | 'i386';

/**
 * Instructions a compiled block keeps in locals (templated ALU, mov, loads, stores, push/pop,
 * jcc) next to closures that read or write the same registers and flags behind the locals'
 * back: 8/16-bit partial writes, adc/sbb, inc/dec, shifts, xchg, pushf/popf, lea, cpuid; a
 * templated load or store through a register that points at an unmapped page (its #PF handler
 * repairs the register and the access is retried), so the exception frame records the
 * registers, flags and RIP of the faulting instruction; a store into the loop's head. Templated
 * read-modify-writes of memory (`op [mem], imm`, `inc`/`dec`, locked or not, aligned or not),
 * some through a read-only page so the store faults after the flags are computed; shifts and
 * rotates by any count; near calls, returns and jumps; nops; per-CPU `%gs`/`%fs` accesses.
 */
const KINDS = ['alu', 'alu-imm', 'alu32', 'mov', 'partial', 'carry', 'incdec', 'shift', 'xchg', 'flags', 'push-pop', 'stack', 'memory', 'fault', 'lea', 'smc', 'cpuid', 'rmw', 'shift-any', 'call', 'nop', 'percpu'] as const;
interface Piece {
  readonly kind: (typeof KINDS)[number];
  readonly a: number;
  readonly b: number;
  readonly k: number;
}

interface Program {
  readonly arch: Arch;
  readonly pieces: readonly Piece[];
  readonly timer: number | null;
  readonly nmi: number | null;
  /** Two CPUs run the same loop round-robin (shared data lines move between them, the code page is written by both). */
  readonly cpus: 1 | 2;
  readonly quantum: number;
}

type Action = { readonly kind: 'run'; readonly steps: number } | { readonly kind: 'step'; readonly steps: number } | { readonly kind: 'nmi' | 'irq' | 'snapshot' | 'restore' | 'trace' | 'untrace' };

const R64 = [reg.rax, reg.rbx, reg.rdx, reg.rsi, reg.rdi, reg.rbp];
const R32 = [reg.eax, reg.ebx, reg.edx, reg.esi, reg.edi, reg.ebp];
const R16 = [reg.ax, reg.bx, reg.dx, reg.si, reg.di, reg.bp];
const R8 = [reg.al, reg.bl, reg.dl, reg.ah, reg.bh, reg.dh];
const ALU = ['add', 'sub', 'and', 'or', 'xor', 'cmp', 'test'] as const;

type Emit = (name: string, ...ops: unknown[]) => Assembler;

/** A read-only page: a store there faults, and the #PF handler points ebx at data to retry. */
const READ_ONLY = 0x20000n;

/** What every piece names: the width, its two registers, the word operand and a call of any mnemonic. */
function names(a: Assembler, p: Piece, arch: Arch) {
  const wide = arch === 'x86_64';
  const R = wide ? R64 : R32;
  const op: Emit = (name, ...ops) => (a as unknown as Record<string, (...o: unknown[]) => Assembler>)[name]!.call(a, ...ops);
  return { wide, word: wide ? qword : dword, x: R[p.a % R.length]!, y: R[p.b % R.length]!, op };
}

function emit(a: Assembler, p: Piece, arch: Arch, data: bigint, bad: bigint, tag: string): void {
  const { wide, word, x, y, op } = names(a, p, arch);
  const sp = wide ? reg.rsp : reg.esp;
  switch (p.kind) {
    case 'alu':
      op(ALU[p.k % ALU.length]!, x, y);
      break;
    case 'alu-imm':
      op(ALU[p.k % ALU.length]!, x, imm(((p.k * 0x9e3779b1) | 0) >> (p.k % 31)));
      break;
    case 'alu32':
      op(ALU[p.k % ALU.length]!, R32[p.a % 6]!, R32[p.b % 6]!);
      break;
    case 'mov':
      // mov %esi,%esi: a template that reads the register it writes (the zero-extension idiom).
      if (p.k % 3 === 0) a.mov(R32[p.a % 6]!, R32[p.a % 6]!);
      else if (p.k % 3 === 1) a.mov(x, y);
      else a.mov(R32[p.a % 6]!, imm(p.k));
      break;
    case 'partial':
      // A closure writes part of a register a template holds in a local, then a template reads all of it.
      if (p.k % 3 === 0) a.mov(R8[p.a % 6]!, imm(p.k & 0xff));
      else if (p.k % 3 === 1) a.add(R16[p.a % 6]!, R16[p.b % 6]!);
      else a.add(R8[p.a % 6]!, R8[p.b % 6]!);
      a.add(x, y);
      break;
    case 'carry':
      // adc/sbb read CF from the CPU: the template before them left it in a local.
      a.add(x, y);
      op(p.k % 2 === 0 ? 'adc' : 'sbb', y, x);
      break;
    case 'incdec':
      // inc/dec keep CF and write the others; the jcc after reads them back through the locals.
      a.sub(x, imm(p.k & 0xff));
      op(p.k % 2 === 0 ? 'inc' : 'dec', y);
      a.jb(`c${tag}`).xor(x, y).label(`c${tag}`);
      break;
    case 'shift':
      op(['shl', 'shr', 'sar'][p.k % 3]!, x, imm((p.k % 5) + 1));
      a.add(y, x);
      break;
    case 'xchg':
      a.add(x, imm(7)).xchg(x, y).sub(y, x);
      break;
    case 'flags':
      // pushf/popf read and write RFLAGS whole; only the arithmetic flags are changed (IF stays on).
      if (wide) a.pushfq();
      else a.pushfd();
      a.pop(x).and(x, imm(0x8d5)).xor(x, imm(p.k & 0x8d5)).or(x, imm(0x202)).push(x);
      if (wide) a.popfq();
      else a.popfd();
      a.jle(`f${tag}`).add(y, imm(1)).label(`f${tag}`);
      break;
    case 'push-pop':
      // push/pop templates, with the stack pointer itself as either operand.
      if (p.k % 3 === 0) a.push(sp).pop(sp);
      else if (p.k % 3 === 1) a.push(sp).pop(x).sub(x, sp);
      else a.push(x).push(y).pop(x).pop(y);
      break;
    case 'stack':
      // Loads and stores based on the stack pointer, between a push and a pop.
      a.push(x).mov(y, word(sp)).add(y, imm(3)).mov(word(sp), y).pop(x);
      break;
    case 'memory':
      a.mov(word(data + BigInt((p.a % 8) * 8)), x).add(y, word(data + BigInt((p.b % 8) * 8)));
      break;
    case 'fault':
      // A templated access through an unmapped address faults; the #PF handler points ebx at data and returns to retry it.
      a.add(x, imm(p.k)).mov(wide ? reg.rbx : reg.ebx, imm(bad));
      if (p.k % 2 === 0) a.mov(word(wide ? reg.rbx : reg.ebx, 8), y);
      else a.mov(y, word(wide ? reg.rbx : reg.ebx, 16));
      break;
    case 'lea':
      a.lea(x, word(y, x, 2, p.k & 0xfff)).add(y, x);
      break;
    case 'smc':
      // A store of a changing byte into the loop head's immediate (the running block's page), then int3 to serialize.
      a.mov(wide ? reg.rdi : reg.edi, imm('head', -1)).add(reg.esi, imm(0x01010101)).mov(byte(wide ? reg.rdi : reg.edi), reg.dh).int3();
      break;
    case 'cpuid':
      a.mov(reg.eax, imm(p.k % 2)).cpuid();
      break;
    default:
      emitMore(a, p, arch, data, tag);
  }
}

function emitMore(a: Assembler, p: Piece, arch: Arch, data: bigint, tag: string): void {
  const { wide, word, x, y, op } = names(a, p, arch);
  const rbx = wide ? reg.rbx : reg.ebx;
  switch (p.kind) {
    case 'rmw': {
      // Through rbx at the read-only page (the store faults and is retried at data) or at data; aligned or not.
      a.mov(rbx, imm(data + (p.k % 3 === 0 ? READ_ONLY : 0x280n)));
      const at = word(rbx, (p.b % 8) * 8 + (p.k % 5 === 0 ? 3 : 0));
      if (p.k % 7 === 0) a.lock();
      if (p.k % 4 === 0 || p.k % 7 === 0) op(ALU[(p.k >> 2) % 5]!, at, imm(((p.k * 0x9e3779b1) | 0) >> (p.k % 29)));
      else if (p.k % 4 === 1) op(p.k % 8 === 1 ? 'inc' : 'dec', at);
      else if (p.k % 4 === 2) op(ALU[(p.k >> 2) % ALU.length]!, at, imm(p.k & 0xff));
      else op(ALU[(p.k >> 2) % ALU.length]!, p.k % 3 === 1 ? R32[p.a % 6]! : x, p.k % 3 === 1 ? dword(rbx, (p.b % 8) * 8) : at);
      a.jo(`o${tag}`).add(y, imm(1)).label(`o${tag}`);
      break;
    }
    case 'shift-any':
      // Counts where the carry comes from the other half or the count masks to 0, and any other.
      op(['shl', 'shr', 'sar', 'rol', 'ror'][p.k % 5]!, p.k % 3 === 0 ? R32[p.a % 6]! : x, imm([0, 1, 31, 32, 33, 63, 64, (p.k >> 6) & 63][(p.k >> 3) % 8]!));
      a.adc(y, x);
      break;
    case 'call':
      a.call(`f${tag}`).jmp(`g${tag}`).label(`f${tag}`).add(x, imm(p.k & 0xff)).ret().label(`g${tag}`).sub(y, x);
      break;
    case 'nop':
      a.nop(1 + (p.k % 11)).add(x, imm(1));
      break;
    case 'percpu': {
      const at = wide ? qword.gs((p.b % 4) * 8) : dword.fs((p.b % 4) * 8);
      if (p.k % 4 === 0) a.mov(x, at);
      else if (p.k % 4 === 1) a.mov(at, y);
      else if (p.k % 4 === 2) a.add(at, imm(p.k & 0x7f));
      else a.lock().inc(at);
      a.add(x, at);
      break;
    }
    default:
      throw new Error(`no piece ${p.kind}`);
  }
}

function build(p: Program, execution: 'blocks' | 'interpreter'): Machine {
  const k = kit({ arch: p.arch, cpus: p.cpus, timing: 'modelled', execution });
  const wide = p.arch === 'x86_64';
  const a = k.asm();
  const data = k.layout.data;
  const word = wide ? qword : dword;
  const iret = (): Assembler => (wide ? a.iretq() : a.iretd());
  a.label('timer');
  a.add(word(data + 0x100n), imm(1));
  iret();
  a.label('nmi');
  a.add(word(data + 0x108n), imm(1));
  iret();
  a.label('int3');
  iret();
  a.label('pf').add(word(data + 0x110n), imm(1)).mov(wide ? reg.rbx : reg.ebx, imm(data + 0x200n)).add(wide ? reg.rsp : reg.esp, imm(wide ? 8 : 4));
  iret();
  k.m.map(data + READ_ONLY, 0x1000, { writable: false });
  a.label('start').mov(reg.ecx, imm(40));
  a.label('loop').add(reg.eax, imm(0x12345678)).label('head');
  p.pieces.forEach((piece, j) => {
    emit(a, piece, p.arch, data, data + 0x40000n, `${j}`);
  });
  a.sub(reg.ecx, imm(1)).jne('loop').mov(reg.ecx, imm(29)).jmp('loop');
  k.m.loadCode(a.assemble());
  k.m.setGate(0x30, { handler: 'timer' });
  k.m.setGate(2, { handler: 'nmi' });
  k.m.setGate(3, { handler: 'int3', dpl: 3 });
  k.m.setGate(14, { handler: 'pf' });
  for (let i = 0; i < p.cpus; i++) {
    k.m.start(i, { rip: 'start', rsp: k.stackTop(i), interrupts: true });
    if (wide) k.m.cpus[i]!.gsBase = data + 0x400n + BigInt(i) * 0x40n;
    else k.m.cpus[i]!.fsBase = data + 0x400n + BigInt(i) * 0x40n;
    k.m.cpus[i]!.setTimer(p.timer === null ? null : p.timer + i * 13, 0x30);
    k.m.cpus[i]!.setNmiSource(p.nmi);
  }
  return k.m;
}

const GPRS = ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp'] as const;

function state(m: Machine): string {
  const cpus = m.cpus.map((c) => `${c.status} ${c.rip.toString(16)} ${c.rflags.toString(16)} ${c.cycles} ${c.instructions} ${GPRS.map((r) => c.reg(r).toString(16)).join(' ')}`);
  return `${m.hash()} ${m.traceHash()} ${m.trace.length} ${cpus.join('|')}`;
}

const snapshots = new WeakMap<Machine, Snapshot>();

function apply(m: Machine, act: Action, p: Program): void {
  // A snapshot shares its frames copy-on-write: the next store to each (wrFast's fast path declines it) unshares it.
  if (act.kind === 'snapshot') snapshots.set(m, m.snapshot());
  // Tracing started with hot blocks compiled: the instructions must be traced one by one from there.
  else if (act.kind === 'trace') m.startTrace();
  else if (act.kind === 'untrace') m.stopTrace();
  else if (act.kind === 'restore') {
    const s = snapshots.get(m);
    if (s !== undefined) m.restore(s);
  } else if (act.kind === 'run') m.run({ steps: act.steps, scheduler: { kind: 'round-robin', quantum: p.quantum } });
  else if (act.kind === 'step') for (let s = 0; s < act.steps; s++) m.step(s % p.cpus);
  else if (act.kind === 'nmi') m.injectNmi(p.cpus - 1);
  else m.injectIrq(0, 0x30);
}

const piece: fc.Arbitrary<Piece> = fc.record({ kind: fc.constantFrom(...KINDS), a: fc.nat(5), b: fc.nat(5), k: fc.nat(0xffff) });

const program = (arch: Arch): fc.Arbitrary<Program> =>
  fc.record({
    arch: fc.constant(arch),
    pieces: fc.array(piece, { minLength: 1, maxLength: 12 }),
    timer: fc.option(fc.integer({ min: 20, max: 3000 }), { nil: null, freq: 2 }),
    nmi: fc.option(fc.integer({ min: 20, max: 4000 }), { nil: null, freq: 3 }),
    cpus: fc.constantFrom(1 as const, 1 as const, 2 as const),
    quantum: fc.integer({ min: 1, max: 300 }),
  });

const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('run' as const), steps: fc.integer({ min: 1, max: 700 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('step' as const), steps: fc.integer({ min: 1, max: 30 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constantFrom('nmi' as const, 'irq' as const, 'snapshot' as const, 'restore' as const, 'trace' as const, 'untrace' as const) }) },
);

describe('block locals against the interpreter', () => {
  for (const arch of ['x86_64', 'i386'] as const) {
    it(`${arch}: closures, partial writes, faults and stores next to templated instructions leave the same state`, () => {
      const before = blockCounters.compiled;
      let faults = 0;
      fc.assert(
        fc.property(program(arch), fc.array(action, { minLength: 1, maxLength: 25 }), (p, actions) => {
          const ref = build(p, 'interpreter');
          const fast = build(p, 'blocks');
          for (const m of [ref, fast]) m.run({ steps: 4000 * p.cpus, scheduler: { kind: 'round-robin', quantum: 400 } });
          expect(state(fast)).toBe(state(ref));
          for (const act of actions) {
            apply(ref, act, p);
            apply(fast, act, p);
            expect(state(fast)).toBe(state(ref));
          }
          faults += Number(fast.read((arch === 'x86_64' ? LAYOUT64 : LAYOUT32).data + 0x110n, 4));
        }),
        { numRuns: 80, seed: 21 },
      );
      // Only worth something if blocks were compiled and templated accesses faulted in them.
      expect(blockCounters.compiled).toBeGreaterThan(before);
      expect(faults).toBeGreaterThan(0);
    });
  }
});

describe('a template that reads the register it writes', () => {
  it('mov %esi,%esi (zero-extension) and mov %rax,%rax in a compiled loop keep the register', () => {
    const finals = (['interpreter', 'blocks'] as const).map((execution) => {
      const k = kit({ arch: 'x86_64', timing: 'flat', execution });
      const a = k.asm();
      a.label('start').mov(reg.rsi, imm(-1)).mov(reg.rax, imm(-5)).mov(reg.ecx, imm(100_000));
      // The block starts at the moves (its jcc leaves it, the jmp closes the loop), so nothing is in a local there yet.
      a.label('loop').mov(reg.esi, reg.esi).mov(reg.rax, reg.rax).add(reg.rdx, reg.rsi).add(reg.rdx, reg.rax).or(reg.rsi, imm(-1)).sub(reg.ecx, imm(1)).je('done').jmp('loop');
      a.label('done').jmp('done');
      k.m.loadCode(a.assemble());
      k.m.start(0, { rip: 'start', rsp: k.stackTop(0) });
      const compiled = blockCounters.compiled;
      k.m.run({ steps: 3 + 8 * 100_000 });
      if (execution === 'blocks') expect(blockCounters.compiled).toBeGreaterThan(compiled);
      const c = k.m.cpus[0]!;
      return [c.reg('rsi'), c.reg('rax'), c.reg('rdx'), c.instructions];
    });
    expect(finals[1]).toEqual(finals[0]);
    // Every pass adds the zero-extended ESI and RAX: what the interpreter computes is the arithmetic's.
    expect(finals[0]![2]).toBe((100_000n * (0xffffffffn - 5n)) & 0xffffffffffffffffn);
  });
});
