import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { byte, imm, qword, reg } from '../asm/operands.js';
import { kit } from '../testing/kit.js';
import { COMMON_PIECES, emitCommon, startPieceCpus } from '../testing/pieces.js';
import type { PieceProgram } from '../testing/pieces.js';
import { blockCounters } from './block.js';
import type { Machine } from './machine.js';

const { rax, eax, ecx, rdx, rdi } = reg;

/**
 * Straight-line and boundary-making pieces. `smc` rewrites an immediate of the instruction right
 * after its store (inside the same block), `smc-loop` one of the loop's first instruction; both
 * store ecx's second byte, which changes every 256 passes, so the blocks get hot in between.
 */
const PIECES = [...COMMON_PIECES, 'mov', 'load', 'push-pop', 'branch', 'smc', 'smc-loop', 'tf'] as const;
type Piece = (typeof PIECES)[number];

interface Program extends PieceProgram<Piece> {
  /** Watch the loop's first instruction with `onExecute` (the page then runs through the interpreter). */
  readonly watch: boolean;
}

type Action =
  | { readonly kind: 'run'; readonly steps: number; readonly quantum: number }
  | { readonly kind: 'until'; readonly steps: number; readonly quantum: number }
  | { readonly kind: 'random'; readonly steps: number }
  | { readonly kind: 'step'; readonly cpu: number; readonly steps: number }
  | { readonly kind: 'nmi' | 'irq' | 'poke'; readonly cpu: number };

function build(p: Program, execution: 'blocks' | 'interpreter') {
  const k = kit({ arch: 'x86_64', cpus: p.cpus, timing: p.timing, execution, serial: { cyclesPerByte: 37 } });
  const a = k.asm();
  const data = k.layout.data;
  a.label('timer').lock().add(qword(data), imm(1)).iretq();
  a.label('nmi').add(qword(data + 8n), imm(1)).iretq();
  a.label('iret').iretq();
  for (let i = 0; i < p.cpus; i++) {
    a.label(`cpu${i}`).xor(ecx, ecx);
    a.label(`loop${i}`).add(eax, imm(0x12345678)).label(`after${i}`);
    p.pieces[i]!.forEach((piece, j) => {
      emit(a, piece, `${i}_${j}`, i, data);
    });
    a.jmp(`loop${i}`);
  }
  k.m.loadCode(a.assemble());
  k.m.setGate(0x30, { handler: 'timer' });
  k.m.setGate(2, { handler: 'nmi' });
  k.m.setGate(1, { handler: 'iret' });
  k.m.setGate(3, { handler: 'iret', dpl: 3 });
  startPieceCpus(k.m, p, k.stackTop);
  const seen: string[] = [];
  if (p.watch) k.m.onExecute(k.m.address('loop0'), 1, (cpu, rip) => seen.push(`${cpu}@${rip.toString(16)}`));
  return { m: k.m, seen };
}

function emit(a: ReturnType<ReturnType<typeof kit>['asm']>, piece: Piece, tag: string, cpu: number, data: bigint): void {
  switch (piece) {
    case 'mov':
      a.mov(rdx, rax).shl(rdx, imm(1)).sub(rdx, rax).mov(rdi, imm(data + 0x300n));
      break;
    case 'load':
      a.add(rax, qword(data));
      break;
    case 'push-pop':
      a.push(rax).push(rdx).pop(rax).pop(rdx);
      break;
    case 'branch':
      a.test(eax, imm(1)).jne(`s${tag}`).add(rax, imm(5)).label(`s${tag}`);
      break;
    case 'smc':
      a.add(ecx, imm(1)).mov(byte(reg.rip, `p${tag}`, -1), reg.ch).add(eax, imm(0x12345678)).label(`p${tag}`);
      break;
    case 'smc-loop':
      a.add(ecx, imm(1)).mov(byte(reg.rip, `after${cpu}`, -1), reg.ch);
      break;
    case 'tf':
      a.pushf().or(qword(reg.rsp), imm(0x100)).popf().add(rax, imm(1)).add(rax, imm(2)).pushf().and(qword(reg.rsp), imm(-0x101)).popf();
      break;
    default:
      emitCommon(a, piece, cpu, data);
  }
}

/** What must agree after every action: the state hash and the per-CPU clocks and counters the hash leaves out. */
function state(m: Machine): string {
  const cpus = m.cpus.map((c) => `${c.status} ${c.rip.toString(16)} ${c.rflags.toString(16)} ${c.cycles} ${c.instructions} ${c.nmiPending}`);
  return `${m.hash()} ${m.cycles} ${cpus.join('|')} ${m.console}`;
}

function apply(m: Machine, act: Action, cpus: number): void {
  if (act.kind === 'run') m.run({ steps: act.steps, scheduler: { kind: 'round-robin', quantum: act.quantum } });
  // A predicate checked before every step: the per-step path of the round-robin scheduler.
  else if (act.kind === 'until') m.run({ steps: act.steps, scheduler: { kind: 'round-robin', quantum: act.quantum }, until: () => false });
  else if (act.kind === 'random') m.run({ steps: act.steps, scheduler: { kind: 'random', nmiChance: 0.01, irqChance: 0.01, irqVector: 0x30 } });
  else if (act.kind === 'step') for (let s = 0; s < act.steps; s++) m.step(act.cpu % cpus);
  else if (act.kind === 'nmi') m.injectNmi(act.cpu % cpus);
  else if (act.kind === 'irq') m.injectIrq(act.cpu % cpus, 0x30);
  // An outside write into the code (a debugger or text_poke from the host): invalidates the page's blocks.
  else m.write(m.address(`after${act.cpu % cpus}`) - 2n, 1, BigInt(act.cpu & 0xff));
}

const program = (timing: 'flat' | 'modelled'): fc.Arbitrary<Program> =>
  fc.integer({ min: 1, max: 3 }).chain((cpus) =>
    fc.record({
      cpus: fc.constant(cpus),
      pieces: fc.array(fc.array(fc.constantFrom(...PIECES), { minLength: 1, maxLength: 10 }), { minLength: cpus, maxLength: cpus }),
      timers: fc.array(fc.option(fc.integer({ min: 3, max: 2000 }), { nil: null, freq: 2 }), { minLength: cpus, maxLength: cpus }),
      nmiSources: fc.array(fc.option(fc.integer({ min: 5, max: 3000 }), { nil: null, freq: 2 }), { minLength: cpus, maxLength: cpus }),
      timing: fc.constant(timing),
      watch: fc.boolean(),
    }),
  );

const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('run' as const), steps: fc.integer({ min: 1, max: 400 }), quantum: fc.integer({ min: 1, max: 200 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('run' as const), steps: fc.integer({ min: 1, max: 400 }), quantum: fc.constant(1) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('until' as const), steps: fc.integer({ min: 1, max: 200 }), quantum: fc.integer({ min: 1, max: 8 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('random' as const), steps: fc.integer({ min: 1, max: 300 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('step' as const), cpu: fc.nat(7), steps: fc.integer({ min: 1, max: 40 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom('nmi' as const, 'irq' as const, 'poke' as const), cpu: fc.nat(7) }) },
);

describe('basic blocks against the interpreter', () => {
  for (const timing of ['flat', 'modelled'] as const) {
    it(`${timing} timing: same state after every run, injection and code poke`, () => {
      const before = blockCounters.compiled;
      fc.assert(
        fc.property(program(timing), fc.array(action, { minLength: 1, maxLength: 40 }), (p, actions) => {
          const ref = build(p, 'interpreter');
          const fast = build(p, 'blocks');
          // Warm the code up so blocks get built and compiled before the checked actions.
          for (const k of [ref, fast]) k.m.run({ steps: 3000, scheduler: { kind: 'round-robin', quantum: 500 } });
          expect(state(fast.m)).toBe(state(ref.m));
          for (const act of actions) {
            apply(ref.m, act, p.cpus);
            apply(fast.m, act, p.cpus);
            expect(state(fast.m)).toBe(state(ref.m));
          }
          expect(fast.m.schedule()).toEqual(ref.m.schedule());
          expect(fast.seen).toEqual(ref.seen);
          // Replaying the recorded schedule (steps of one CPU in a row run as a burst) reaches the same state;
          // outside code pokes are not choices, so only runs without them replay to it.
          if (actions.every((a) => a.kind !== 'poke')) {
            for (const execution of ['interpreter', 'blocks'] as const) {
              const again = build(p, execution);
              again.m.run({ steps: Number.MAX_SAFE_INTEGER, scheduler: { kind: 'replay', schedule: ref.m.schedule() } });
              expect(state(again.m)).toBe(state(ref.m));
            }
          }
        }),
        { numRuns: 60, seed: 14 },
      );
      // The comparison above is only worth something if blocks ran: some were compiled to functions.
      expect(blockCounters.compiled).toBeGreaterThan(before);
    });
  }

  it('a step budget ending inside a hot block stops at that instruction', () => {
    const p: Program = { cpus: 1, pieces: [['alu', 'mov', 'alu', 'store', 'alu']], timers: [null], nmiSources: [null], timing: 'modelled', watch: false };
    const ref = build(p, 'interpreter');
    const fast = build(p, 'blocks');
    for (let n = 1; n < 200; n += 7) {
      ref.m.run({ steps: n });
      fast.m.run({ steps: n });
      expect(fast.m.cpus[0]!.instructions).toBe(ref.m.cpus[0]!.instructions);
      expect(state(fast.m)).toBe(state(ref.m));
    }
  });

  it('replay runs a CPU\'s consecutive recorded steps as compiled blocks, to the interpreter\'s state', () => {
    const p: Program = { cpus: 2, pieces: [['alu', 'mov', 'load', 'store', 'branch'], ['push-pop', 'alu', 'mov']], timers: [700, null], nmiSources: [null, 900], timing: 'modelled', watch: false };
    const ref = build(p, 'interpreter');
    ref.m.run({ steps: 6000, scheduler: { kind: 'round-robin', quantum: 37 } });
    // Replayed through step() one entry at a time, the recorded choices give the same state.
    const stepped = build(p, 'blocks');
    for (const e of ref.m.schedule()) if (e.kind === 'step') stepped.m.step(e.cpu);
    expect(state(stepped.m)).toBe(state(ref.m));
    const compiled = blockCounters.compiled;
    const replayed = build(p, 'blocks');
    replayed.m.run({ steps: Number.MAX_SAFE_INTEGER, scheduler: { kind: 'replay', schedule: ref.m.schedule() } });
    expect(state(replayed.m)).toBe(state(ref.m));
    expect(replayed.m.schedule()).toEqual(ref.m.schedule());
    expect(blockCounters.compiled).toBeGreaterThan(compiled);
  });

  it('a store into a later instruction of the running block takes effect at once, as in the interpreter', () => {
    const finals = ['interpreter', 'blocks'].map((execution) => {
      const k = kit({ arch: 'x86_64', timing: 'flat', execution: execution as 'blocks' | 'interpreter' });
      const a = k.asm();
      a.label('iret').iretq();
      // int3 (its handler irets) serializes each pass: a page written since the CPU last serialized
      // runs through the interpreter's cross-modifying-code check, so without it no block would run.
      a.label('start').xor(ecx, ecx);
      a.label('loop').int3();
      // ch changes every 256 passes: the block is hot by then, and its own store rewrites the next instruction.
      a.add(ecx, imm(1)).mov(byte(reg.rip, 'patched', -1), reg.ch).add(eax, imm(0x12345678)).label('patched');
      a.add(rax, imm(3)).jmp('loop');
      k.m.loadCode(a.assemble());
      k.m.setGate(3, { handler: 'iret', dpl: 3 });
      k.m.start(0, { rip: 'start', rsp: k.stackTop(0) });
      const compiled = blockCounters.compiled;
      k.m.run({ steps: 20_000 });
      if (execution === 'blocks') expect(blockCounters.compiled).toBeGreaterThan(compiled);
      expect(k.m.read(k.m.address('patched') - 1n, 1)).toBe(k.m.cpus[0]!.reg('rcx') >> 8n);
      return k.m.cpus[0]!.reg('rax');
    });
    expect(finals[1]).toBe(finals[0]);
  });

  it('rejects an unknown execution mode', () => {
    expect(() => kit({ arch: 'x86_64', execution: 'jit' as 'blocks' })).toThrow(/execution/);
  });
});
