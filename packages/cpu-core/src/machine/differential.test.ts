import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { imm, reg } from '../asm/operands.js';
import { kit } from '../testing/kit.js';
import { COMMON_PIECES, emitCommon, flavour, startPieceCpus } from '../testing/pieces.js';
import type { PieceProgram } from '../testing/pieces.js';
import { PORT } from './arch.js';
import type { MachineConfig, RunOptions } from './machine.js';
import type { ScheduleEntry, Scheduler } from './schedule.js';

const { eax, ecx, edx, al } = reg;

/** The pieces a random program is made of: each one exercises a different part of the cycle model. */
const PIECES = [...COMMON_PIECES, 'serial', 'ud2', 'ipi', 'nmi-ipi', 'wrmsr'] as const;
type Piece = (typeof PIECES)[number];

interface Program extends PieceProgram<Piece> {
  readonly arch: 'x86_64' | 'i386';
}

function build(p: Program) {
  const config: Partial<MachineConfig> & { arch: Program['arch'] } = { arch: p.arch, cpus: p.cpus, serial: { cyclesPerByte: 37 }, timing: p.timing };
  const k = kit(config);
  const a = k.asm();
  const data = k.layout.data;
  const f = flavour(p.arch);
  const iret = (): void => {
    if (p.arch === 'x86_64') a.iretq();
    else a.iretd();
  };
  a.label('timer').lock().add(f.word(data), imm(1));
  iret();
  a.label('nmi').add(f.word(data + 8n), imm(1));
  iret();
  // #UD: skip the two-byte ud2.
  a.label('ud').add(f.word(f.sp), imm(2));
  iret();
  a.label('bp');
  iret();
  a.label('ipi').add(f.word(data + 16n), imm(1));
  iret();
  for (let i = 0; i < p.cpus; i++) {
    a.label(`cpu${i}`);
    for (const piece of p.pieces[i]!) emit(a, piece, i, p, data);
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

function emit(a: ReturnType<ReturnType<typeof kit>['asm']>, piece: Piece, cpu: number, p: Program, data: bigint): void {
  const cpus = p.cpus;
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
      emitCommon(a, piece, cpu, data, p.arch);
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

const program = (timing: 'flat' | 'modelled', arch: Program['arch']): fc.Arbitrary<Program> =>
  fc.integer({ min: 1, max: 3 }).chain((cpus) =>
    fc.record({
      cpus: fc.constant(cpus),
      pieces: fc.array(fc.array(fc.constantFrom(...PIECES), { minLength: 1, maxLength: 8 }), { minLength: cpus, maxLength: cpus }),
      // Short periods are interrupt storms under modelled timing (a delivery and iret outlast them); long ones let the pieces run.
      timers: fc.array(fc.option(fc.integer({ min: 3, max: 5000 }), { nil: null }), { minLength: cpus, maxLength: cpus }),
      nmiSources: fc.array(fc.option(fc.integer({ min: 5, max: 9000 }), { nil: null }), { minLength: cpus, maxLength: cpus }),
      timing: fc.constant(timing),
      arch: fc.constant(arch),
    }),
  );

const schedulers: fc.Arbitrary<Scheduler> = fc.oneof(
  fc.record({ kind: fc.constant('round-robin' as const), quantum: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ kind: fc.constant('random' as const), nmiChance: fc.double({ min: 0, max: 0.05, noNaN: true }), irqChance: fc.double({ min: 0, max: 0.05, noNaN: true }), irqVector: fc.constant(0x40) }),
);

describe('one cycle model: run() under every scheduler, step() and replay agree', () => {
  for (const [timing, arch, runs] of [['flat', 'x86_64', 40], ['modelled', 'x86_64', 40], ['modelled', 'i386', 20]] as const) {
    it(`${timing} timing, ${arch}: same hash, same trace, same console`, () => {
      fc.assert(
        fc.property(program(timing, arch), schedulers, fc.integer({ min: 50, max: 1500 }), (p, scheduler, steps) => {
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
        { numRuns: runs, seed: 11 },
      );
      // 40 programs under every path: seconds on a quiet host, a minute when CI runs every package at once.
    }, 180_000);
  }

  it('the generated programs run on both architectures: handlers, string stores and IPIs take effect', () => {
    for (const arch of ['x86_64', 'i386'] as const) {
      const p: Program = { cpus: 2, pieces: [['rep-stos', 'ipi', 'ud2', 'lock-add', 'pause'], ['alu', 'store', 'int3', 'lock-add']], timers: [2000, null], nmiSources: [null, 3000], timing: 'modelled', arch };
      const k = build(p);
      k.m.run({ steps: 20_000 });
      const word = (off: bigint): bigint => k.m.read(k.layout.data + off, 4);
      expect(k.m.cpus.map((c) => c.status)).toEqual(['running', 'running']);
      for (const off of [0n, 8n, 16n, 0x200n]) expect(word(off)).toBeGreaterThan(0n);
      expect(k.m.cpus[0]!.counters.delivered[6]).toBeGreaterThan(0);
    }
  });

  it('a pause-heavy loop with a timer replays to the same hash (the case that diverged)', () => {
    const p: Program = { cpus: 1, pieces: [['pause', 'pause', 'alu']], timers: [7], nmiSources: [13], timing: 'flat', arch: 'x86_64' };
    const first = outcome(p, byRun({ steps: 500 }));
    const stepped = outcome(p, byStep(first.schedule));
    expect(stepped.hash).toBe(first.hash);
  });
});
