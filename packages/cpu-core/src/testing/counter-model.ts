import { imm, qword, reg } from '../asm/operands.js';
import type { Monitor } from '../explore/model.js';
import type { BuiltModel } from '../explore/worker.js';
import { kit } from './kit.js';

export interface CounterModelParams {
  readonly cpus: number;
  /** Register-only instructions each CPU runs before its increment. */
  readonly work: number;
  readonly atomic: boolean;
  readonly reduction?: boolean;
}

/**
 * CPUs that each do some private work, then increment one shared counter (plainly or with
 * `lock xadd`), then halt; the invariant is that the final count is the CPU count. The model
 * tests and benchmarks of the engine search (and workers rebuild from these parameters).
 */
export function buildCounterModel(p: CounterModelParams): BuiltModel {
  const k = kit({ arch: 'x86_64', cpus: p.cpus });
  const a = k.asm();
  const counter = k.layout.data;
  a.label('start');
  for (let i = 0; i < p.work; i++) a.add(reg.rbx, imm(i + 1));
  if (p.atomic) a.mov(reg.rax, imm(1)).lock().xadd(qword(counter), reg.rax);
  else a.mov(reg.rax, qword(counter)).add(reg.rax, imm(1)).mov(qword(counter), reg.rax);
  a.hlt();
  k.m.loadCode(a.assemble());
  for (let i = 0; i < p.cpus; i++) k.m.start(i, { rip: 'start', rsp: k.stackTop(i) });
  const n = BigInt(p.cpus);
  const count: Monitor<null> = {
    names: ['lost-update'],
    reads: [],
    init: () => null,
    after: (_m, _c, s) => ({ state: s }),
    final: (m) => (m.read(counter, 8) === n ? [] : [{ invariant: 'lost-update', detail: `counter is ${m.read(counter, 8)}, expected ${n}` }]),
    key: () => '',
  };
  return {
    machine: k.m,
    options: { maxDepth: 200, monitors: [count], done: (m) => m.cpus.every((c) => c.status === 'halted'), reduction: p.reduction ?? true },
  };
}

/** The counter model as a domain with two start states (for `searchStarts`): `atomic` and `plain` increments. */
export function buildCounterStart(p: Omit<CounterModelParams, 'atomic'> & { readonly start: 'atomic' | 'plain' }): BuiltModel {
  return buildCounterModel({ cpus: p.cpus, work: p.work, atomic: p.start === 'atomic', ...(p.reduction !== undefined ? { reduction: p.reduction } : {}) });
}

export interface NmiToyParams {
  /** Register-only instructions the CPU runs before it halts. */
  readonly length: number;
  /** External NMIs the search may raise. */
  readonly nmis: number;
}

/**
 * One CPU running a straight line of register work while up to `nmis` NMIs arrive anywhere;
 * the handler counts itself in memory and returns. A tree-shaped search (few states merge),
 * the shape of an NMI-window search: the engine's benchmark of parallel jobs.
 */
export function buildNmiToyModel(p: NmiToyParams): BuiltModel {
  const k = kit({ arch: 'x86_64', cpus: 1 });
  const a = k.asm();
  a.label('start');
  for (let i = 0; i < p.length; i++) a.add(reg.rbx, imm((i % 7) + 1));
  a.hlt();
  a.label('nmi').add(qword(k.layout.data), imm(1)).add(reg.rcx, imm(1)).sub(reg.rcx, imm(1)).iretq();
  k.m.loadCode(a.assemble());
  k.m.setGate(2, { handler: 'nmi' });
  k.m.start(0, { rip: 'start', rsp: k.stackTop(0) });
  return { machine: k.m, options: { maxDepth: p.length * 2 + 64, events: [{ name: 'nmi', kind: 'nmi', budget: p.nmis }], done: (m) => m.cpus[0]!.status === 'halted' } };
}

/**
 * One CPU adds 1 to RBX twice and halts (a halt loop); each of two NMIs doubles RBX. Once the
 * CPU is halted the only choice is the next NMI (a run of one-choice nodes whose choice is an
 * event). Every path ends when both NMIs were delivered, and a monitor reports the final RBX,
 * which says where they came (each doubling after 0, 1 or 2 adds): 2, 3, 4, 5, 6 or 8.
 */
export function buildNmiDoublingModel(): BuiltModel {
  const k = kit({ arch: 'x86_64', cpus: 1 });
  const a = k.asm();
  a.label('start').add(reg.rbx, imm(1)).add(reg.rbx, imm(1));
  a.label('idle').hlt().jmp('idle');
  a.label('nmi').add(reg.rbx, reg.rbx).iretq();
  k.m.loadCode(a.assemble());
  k.m.setGate(2, { handler: 'nmi' });
  k.m.start(0, { rip: 'start', rsp: k.stackTop(0) });
  const outcome: Monitor<null> = {
    names: [],
    reads: [0],
    init: () => null,
    after: (_m, _c, s) => ({ state: s }),
    final: (m) => [{ invariant: `rbx ${m.cpus[0]!.reg('rbx')}`, detail: 'reached' }],
    key: () => '',
  };
  return { machine: k.m, options: { maxDepth: 40, events: [{ name: 'nmi', kind: 'nmi', budget: 2 }], monitors: [outcome] } };
}
