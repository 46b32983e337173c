import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { imm, qword, reg } from '../asm/operands.js';
import { kit } from '../testing/kit.js';
import { COMMON_PIECES, emitCommon, startPieceCpus } from '../testing/pieces.js';
import type { PieceProgram } from '../testing/pieces.js';
import { PORT } from './arch.js';
import type { MachineConfig, RunOptions } from './machine.js';
import type { ScheduleEntry, Scheduler } from './schedule.js';

const { eax, ecx, edx, al } = reg;

/** The pieces a random program is made of: each one exercises a different part of the cycle model. */
const PIECES = [...COMMON_PIECES, 'serial', 'ud2', 'ipi', 'nmi-ipi', 'wrmsr'] as const;
type Piece = (typeof PIECES)[number];

type Program = PieceProgram<Piece>;

function build(p: Program) {
  const config: Partial<MachineConfig> & { arch: 'x86_64' } = { arch: 'x86_64', cpus: p.cpus, serial: { cyclesPerByte: 37 }, timing: p.timing };
  const k = kit(config);
  const a = k.asm();
  const data = k.layout.data;
  a.label('timer').lock().add(qword(data), imm(1)).iretq();
  a.label('nmi').add(qword(data + 8n), imm(1)).iretq();
  // #UD: skip the two-byte ud2.
  a.label('ud').add(qword(reg.rsp), imm(2)).iretq();
  a.label('bp').iretq();
  a.label('ipi').add(qword(data + 16n), imm(1)).iretq();
  for (let i = 0; i < p.cpus; i++) {
    a.label(`cpu${i}`);
    for (const piece of p.pieces[i]!) emit(a, piece, i, p.cpus, data);
    a.jmp(`cpu${i}`);
  }
  k.m.loadCode(a.assemble());
  k.m.setGate(0x30, { handler: 'timer' });
  k.m.setGate(0x40, { handler: 'ipi' });
  k.m.setGate(2, { handler: 'nmi' });
  k.m.setGate(6, { handler: 'ud' });
  k.m.setGate(3, { handler: 'bp', dpl: 3 });
  startPieceCpus(k.m, p, k.stackTop);
  return k;
}

function emit(a: ReturnType<ReturnType<typeof kit>['asm']>, piece: Piece, cpu: number, cpus: number, data: bigint): void {
  switch (piece) {
    case 'serial':
      a.mov(edx, imm(PORT.SERIAL)).mov(eax, imm(65 + cpu)).out(reg.dx, al);
      break;
    case 'ud2':
      a.ud2();
      break;
    case 'ipi':
    case 'nmi-ipi':
      a.mov(edx, imm(PORT.APIC_ICR_DEST)).mov(eax, imm((cpu + 1) % cpus)).out(reg.dx, eax);
      a.mov(edx, imm(PORT.APIC_ICR)).mov(eax, imm(piece === 'ipi' ? 0x40 : 4 << 8)).out(reg.dx, eax);
      break;
    case 'wrmsr':
      a.mov(ecx, imm(0xc0000102)).mov(eax, imm(cpu)).mov(edx, imm(0)).wrmsr();
      break;
    default:
      emitCommon(a, piece, cpu, data);
  }
}

interface Outcome {
  readonly hash: string;
  readonly trace: string;
  readonly schedule: readonly ScheduleEntry[];
  readonly console: string;
}

/** Runs a program once without a trace (so bursts take the fast path) and once with one; both must agree. */
function outcome(p: Program, drive: (k: ReturnType<typeof build>) => void): Outcome {
  const plain = build(p);
  drive(plain);
  const traced = build(p);
  traced.m.startTrace();
  drive(traced);
  expect(traced.m.hash()).toBe(plain.m.hash());
  return { hash: plain.m.hash(), trace: traced.m.traceHash(), schedule: plain.m.schedule(), console: plain.m.console };
}

function byRun(options: RunOptions): (k: ReturnType<typeof build>) => void {
  return (k) => {
    k.m.run(options);
  };
}

function byStep(schedule: readonly ScheduleEntry[]): (k: ReturnType<typeof build>) => void {
  return (k) => {
    for (const e of schedule) {
      if (e.kind === 'step') k.m.step(e.cpu);
      else if (e.kind === 'nmi') k.m.injectNmi(e.cpu);
      else k.m.injectIrq(e.cpu, e.vector);
    }
  };
}

const program = (timing: 'flat' | 'modelled'): fc.Arbitrary<Program> =>
  fc.integer({ min: 1, max: 3 }).chain((cpus) =>
    fc.record({
      cpus: fc.constant(cpus),
      pieces: fc.array(fc.array(fc.constantFrom(...PIECES), { minLength: 1, maxLength: 8 }), { minLength: cpus, maxLength: cpus }),
      timers: fc.array(fc.option(fc.integer({ min: 3, max: 400 }), { nil: null }), { minLength: cpus, maxLength: cpus }),
      nmiSources: fc.array(fc.option(fc.integer({ min: 5, max: 900 }), { nil: null }), { minLength: cpus, maxLength: cpus }),
      timing: fc.constant(timing),
    }),
  );

const schedulers: fc.Arbitrary<Scheduler> = fc.oneof(
  fc.record({ kind: fc.constant('round-robin' as const), quantum: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ kind: fc.constant('random' as const), nmiChance: fc.double({ min: 0, max: 0.05, noNaN: true }), irqChance: fc.double({ min: 0, max: 0.05, noNaN: true }), irqVector: fc.constant(0x40) }),
);

describe('one cycle model: run() under every scheduler, step() and replay agree', () => {
  for (const timing of ['flat', 'modelled'] as const) {
    it(`${timing} timing: same hash, same trace, same console`, () => {
      fc.assert(
        fc.property(program(timing), schedulers, fc.integer({ min: 50, max: 1500 }), (p, scheduler, steps) => {
          const first = outcome(p, byRun({ steps, scheduler }));
          const replayed = outcome(p, byRun({ steps: Number.MAX_SAFE_INTEGER, scheduler: { kind: 'replay', schedule: first.schedule } }));
          const stepped = outcome(p, byStep(first.schedule));
          for (const other of [replayed, stepped]) {
            expect(other.hash).toBe(first.hash);
            expect(other.trace).toBe(first.trace);
            expect(other.console).toBe(first.console);
          }
          // A snapshot taken halfway and restored continues exactly as the run that was not interrupted
          // (IPIs in flight, line ownership and the clocks are part of the snapshot).
          const k = build(p);
          k.m.run({ steps: steps >> 1, scheduler });
          const snap = k.m.snapshot();
          k.m.run({ steps: steps - (steps >> 1), scheduler });
          const straight = k.m.hash();
          k.m.restore(snap);
          k.m.run({ steps: steps - (steps >> 1), scheduler });
          expect(k.m.hash()).toBe(straight);
          if (scheduler.kind === 'round-robin') {
            // The same scheduler checking a predicate before every step takes the per-step path.
            const perStep = outcome(p, byRun({ steps, scheduler, until: () => false }));
            expect(perStep.hash).toBe(first.hash);
            expect(perStep.schedule).toEqual(first.schedule);
          }
        }),
        { numRuns: 40, seed: 11 },
      );
    });
  }

  it('a pause-heavy loop with a timer replays to the same hash (the case that diverged)', () => {
    const p: Program = { cpus: 1, pieces: [['pause', 'pause', 'alu']], timers: [7], nmiSources: [13], timing: 'flat' };
    const first = outcome(p, byRun({ steps: 500 }));
    const stepped = outcome(p, byStep(first.schedule));
    expect(stepped.hash).toBe(first.hash);
  });
});
