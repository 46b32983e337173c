// Prints `name: value unit` lines: simulated instructions per second on one CPU (under the
// modelled timing, the default, and under flat timing in the same run, with their ratio; then the
// interpreter against basic blocks under each model, in the same run), the cost of an incremental
// state hash after one instruction on a 4-CPU machine with 1 MiB touched, round-robin steps per
// second on 1024 and 4096 CPUs (with the schedule recorded, as by default), the kernel mix at
// quantum 1 and, interpreter against blocks, at quantum 64 and on one CPU in one long burst, the
// time of a snapshot and of a restore on 4
// and 4096 CPUs, and the heap a 4096-CPU machine holds; then (`floor`) the kernel mix against a
// floor that does only the instructions' own loads and stores (bench/step-floor.ts); then
// (`reference`) QEMU's user-mode emulator beside kernsim where the host has it (bench/qemu-reference.ts).
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { imm, MSR, qword, reg } from '../src/index.js';
import { kit } from '../src/testing/kit.js';
import { exploreBench } from './explore.js';
import { qemuReference } from './qemu-reference.js';
import { stepFloor } from './step-floor.js';

type Execution = 'blocks' | 'interpreter';

/** A one-CPU loop of ALU work and a store; `timing` selects the cycle model, `execution` blocks or the interpreter. */
function mipsMachine(timing: 'flat' | 'modelled', execution: Execution) {
  const { m, asm, stackTop, layout } = kit({ arch: 'x86_64', timing, execution });
  const a = asm();
  a.label('start').mov(reg.rcx, imm(0x7fffffff)).xor(reg.eax, reg.eax);
  a.label('.loop').add(reg.rax, imm(3)).mov(reg.rdx, reg.rax).and(reg.rdx, imm(0xff)).mov(qword(layout.data), reg.rdx).sub(reg.rcx, imm(1)).jne('.loop');
  a.hlt();
  m.loadCode(a.assemble());
  m.start(0, { rip: 'start', rsp: stackTop(0) });
  m.run({ steps: 200_000 });
  return m;
}

/**
 * Speed of two machine kinds in the same run. The machine built first in a process runs up
 * to ~10 % faster than later ones (JIT and heap layout), so four machines are built in A-B-B-A
 * order and each kind's figure is the best over its two machines and six alternating rounds:
 * the figure is the kind's cost, not the order or the host's noise. Timed in process CPU time.
 */
function mips<K extends string>(a: K, b: K, make: (kind: K) => ReturnType<typeof mipsMachine>): Record<K, number> {
  const kinds = [a, b, b, a];
  const machines = kinds.map((kind) => ({ kind, m: make(kind) }));
  const best = { [a]: 0, [b]: 0 } as Record<K, number>;
  for (let r = 0; r < 6; r++) {
    for (const { kind, m } of r % 2 === 0 ? machines : machines.toReversed()) {
      const n = 3_000_000;
      // CPU time of this process, not wall time: on a shared host the wall clock also counts
      // the time other processes held the core.
      const t0 = process.cpuUsage();
      m.run({ steps: n });
      const used = process.cpuUsage(t0);
      best[kind] = Math.max(best[kind], n / ((used.user + used.system) / 1e6) / 1e6);
    }
  }
  return best;
}

function snapshotHash(): number {
  const { m, asm, stackTop, layout } = kit({ arch: 'x86_64', cpus: 4, memoryMiB: 64 });
  m.map(layout.data + 0x100000n, 1 << 20);
  for (let p = 0; p < 256; p++) m.write(layout.data + 0x100000n + BigInt(p * 4096), 8, BigInt(p + 1));
  const a = asm();
  a.label('start').xor(reg.eax, reg.eax);
  a.label('.loop').add(reg.rax, imm(1)).mov(qword(reg.rsp, -8), reg.rax).jmp('.loop');
  m.loadCode(a.assemble());
  for (let i = 0; i < 4; i++) m.start(i, { rip: 'start', rsp: stackTop(i) });
  m.hash();
  const n = 200_000;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    m.step(i & 3);
    m.hash();
  }
  const withHash = performance.now() - t0;
  const t1 = performance.now();
  for (let i = 0; i < n; i++) m.step(i & 3);
  const without = performance.now() - t1;
  return ((withHash - without) * 1000) / n;
}

/** Round-robin over `n` spinning CPUs, in the chunks text patching uses (n * 64 steps per run call). */
function roundRobin(n: number, steps: number): { rate: number; heapMB: number } {
  const { m, asm, layout } = kit({ arch: 'x86_64', cpus: n });
  const stacks = 0xffffffff84000000n;
  m.map(stacks, n * 0x1000);
  const a = asm();
  a.label('start').xor(reg.eax, reg.eax);
  a.label('.loop').add(reg.rax, imm(1)).mov(qword(reg.rsp, -8), reg.rax).cmp(qword(layout.data), imm(0)).pause().je('.loop').hlt();
  m.loadCode(a.assemble());
  for (let i = 0; i < n; i++) m.start(i, { rip: 'start', rsp: stacks + BigInt((i + 1) * 0x1000) });
  m.run({ steps: n * 64 });
  const h0 = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  for (let done = 0; done < steps; done += n * 64) m.run({ steps: n * 64 });
  const dt = (performance.now() - t0) / 1000;
  return { rate: steps / dt / 1e6, heapMB: (process.memoryUsage().heapUsed - h0) / 1e6 };
}

/**
 * Round-robin over `n` CPUs running kernel-like code: a call into a function with the ftrace
 * prologue (push %rbp; mov %rsp,%rbp; 5-byte nop; %gs load; pop; ret), a locked per-CPU
 * increment, rdmsr of the APIC id, a 64-bit shift, loads and a compare: the shape of the
 * text-patching workload.
 */
function kernelMixMachine(n: number, execution: Execution) {
  const { m, asm, layout } = kit({ arch: 'x86_64', cpus: n, execution });
  const stacks = 0xffffffff84000000n;
  const percpu = 0xffffffff90000000n;
  m.map(stacks, n * 0x1000);
  m.map(percpu, n * 0x1000);
  const a = asm();
  a.label('start').call('func').lock().inc(qword.gs(8)).mov(reg.ecx, imm(MSR.X2APIC_ID)).rdmsr().shl(reg.rax, imm(3));
  a.add(reg.rax, qword(layout.data)).cmp(qword(layout.data + 8n), imm(0)).je('start').hlt();
  a.label('func').push(reg.rbp).mov(reg.rbp, reg.rsp).nop(5).mov(reg.rax, qword.gs(0)).pop(reg.rbp).ret();
  m.loadCode(a.assemble());
  for (let i = 0; i < n; i++) {
    m.cpus[i]!.gsBase = percpu + BigInt(i * 0x1000);
    m.start(i, { rip: 'start', rsp: stacks + BigInt((i + 1) * 0x1000) });
  }
  return m;
}

/** Steps per second of the kernel mix in `chunk`-step runs (default `n * 64`) with `quantum`; best of three rounds, in process CPU time. */
function kernelMix(n: number, steps: number, quantum = 1, execution: Execution = 'blocks', chunk = n * 64): number {
  const m = kernelMixMachine(n, execution);
  const scheduler = { kind: 'round-robin', quantum } as const;
  m.run({ steps: chunk, scheduler });
  let best = 0;
  for (let r = 0; r < 3; r++) {
    const t0 = process.cpuUsage();
    for (let done = 0; done < steps; done += chunk) m.run({ steps: chunk, scheduler });
    const used = process.cpuUsage(t0);
    best = Math.max(best, steps / ((used.user + used.system) / 1e6) / 1e6);
  }
  return best;
}

/**
 * Microseconds per `snapshot()` and per `restore()` of an `n`-CPU kernel-mix machine, 16 steps
 * apart (what the explorer does between branches): the snapshot hashes the written memory and
 * every CPU and copies the CPUs' state; the restore puts it back. Best of three rounds.
 */
function snapshotRestore(n: number): { snapshot: number; restore: number } {
  const m = kernelMixMachine(n, 'blocks');
  m.run({ steps: n * 8 });
  const base = m.snapshot();
  const rounds = n > 64 ? 40 : 4000;
  const best = { snapshot: Infinity, restore: Infinity };
  for (let r = 0; r < 3; r++) {
    let ts = 0;
    let tr = 0;
    for (let i = 0; i < rounds; i++) {
      m.run({ steps: 16 });
      const t0 = performance.now();
      const s = m.snapshot();
      const t1 = performance.now();
      m.restore(i % 2 === 0 ? base : s);
      tr += performance.now() - t1;
      ts += t1 - t0;
    }
    best.snapshot = Math.min(best.snapshot, (ts * 1000) / rounds);
    best.restore = Math.min(best.restore, (tr * 1000) / rounds);
  }
  return best;
}

/** Heap held by a 4096-CPU kernel-mix machine after a run: CPU state, page frames, decode cache and (with a quantum) its blocks. */
function machineMemoryMB(quantum: number): number {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  const h0 = process.memoryUsage().heapUsed;
  const m = kernelMixMachine(4096, 'blocks');
  m.run({ steps: 4096 * 256, scheduler: { kind: 'round-robin', quantum } });
  gc();
  const mb = (process.memoryUsage().heapUsed - h0) / 1e6;
  if (m.cpus.length !== 4096) throw new Error('unreachable: keeps the machine alive past the measurement');
  return mb;
}

/**
 * QEMU's user-mode emulator on the same loop and a stand-in for the kernel mix (bench/qemu-reference.ts),
 * beside kernsim's figures measured in the same run: blocks against QEMU's chained translation blocks,
 * and the interpreter and the 4096-CPU quantum-1 round robin against QEMU stopping after every instruction.
 */
function reference(): void {
  const q = qemuReference();
  if (typeof q === 'string') {
    console.log(`note: no QEMU reference: ${q}`);
    return;
  }
  const loop = mips('interpreter', 'blocks', (execution) => mipsMachine('modelled', execution));
  const mix1 = kernelMix(1, 8_000_000, 1 << 16, 'blocks', 1 << 16);
  const mix4096 = kernelMix(4096, 2_000_000);
  const r = q.rates;
  const show = (name: string, value: number, unit: string): void => {
    console.log(`cpu-core.reference.${name}: ${value.toFixed(unit === 'ratio' ? 3 : 1)} ${unit}`);
  };
  console.log(`note: QEMU reference from ${q.binary}`);
  show('qemu-loop', r.loop.chained, 'Minstr/s');
  show('qemu-loop-one-insn-per-tb', r.loop['one-insn-per-tb'], 'Minstr/s');
  show('qemu-mix', r.mix.chained, 'Minstr/s');
  show('qemu-mix-one-insn-per-tb', r.mix['one-insn-per-tb'], 'Minstr/s');
  show('mips-blocks-over-qemu-loop', loop.blocks / r.loop.chained, 'ratio');
  show('mips-interpreter-over-qemu-loop-one-insn-per-tb', loop.interpreter / r.loop['one-insn-per-tb'], 'ratio');
  show('kernel-mix-1-cpu-blocks-over-qemu-mix', mix1 / r.mix.chained, 'ratio');
  show('round-robin-4096-kernel-mix-over-qemu-mix-one-insn-per-tb', mix4096 / r.mix['one-insn-per-tb'], 'ratio');
}

const only = process.argv[2];
const PARTS = ['machine', 'floor', 'reference', 'explore'];
if (only !== undefined && !PARTS.includes(only)) {
  console.error(`cpu-core bench: choose one of ${PARTS.join(', ')}, got '${only}'`);
  process.exit(2);
}
if (only === undefined || only === 'machine') {
  const speed = mips('flat', 'modelled', (timing) => mipsMachine(timing, 'blocks'));
  console.log(`cpu-core.mips: ${speed.modelled.toFixed(1)} Minstr/s`);
  console.log(`cpu-core.mips-flat: ${speed.flat.toFixed(1)} Minstr/s`);
  console.log(`cpu-core.mips-modelled-over-flat: ${(speed.modelled / speed.flat).toFixed(3)} ratio`);
  for (const timing of ['modelled', 'flat'] as const) {
    const e = mips('interpreter', 'blocks', (execution) => mipsMachine(timing, execution));
    const tag = timing === 'flat' ? '-flat' : '';
    console.log(`cpu-core.mips-interpreter${tag}: ${e.interpreter.toFixed(1)} Minstr/s`);
    console.log(`cpu-core.mips-blocks${tag}: ${e.blocks.toFixed(1)} Minstr/s`);
    console.log(`cpu-core.mips-blocks-over-interpreter${tag}: ${(e.blocks / e.interpreter).toFixed(3)} ratio`);
  }
  console.log('note: Unicorn is not measured here (its wheel is not installable on this host); the reference part measures QEMU where it is installed');
  console.log(`cpu-core.snapshot-hash: ${snapshotHash().toFixed(2)} us`);
  for (const n of [1024, 4096]) {
    const r = roundRobin(n, 5_000_000);
    console.log(`cpu-core.round-robin-${n}: ${r.rate.toFixed(1)} Msteps/s`);
    if (n === 4096) console.log(`cpu-core.round-robin-4096-heap-growth: ${Math.max(0, r.heapMB).toFixed(0)} MB per 5M steps`);
  }
  // 16 CPUs stay in cache: the step path's own cost; 4096 do not.
  for (const n of [16, 1024, 4096]) console.log(`cpu-core.round-robin-${n}-kernel-mix: ${kernelMix(n, 2_000_000).toFixed(1)} Msteps/s`);
  {
    // Quantum 64: each CPU runs 64 steps back to back, so blocks apply; the interpreter is the baseline.
    const interp = kernelMix(4096, 2_000_000, 64, 'interpreter');
    const blocks = kernelMix(4096, 2_000_000, 64, 'blocks');
    console.log(`cpu-core.round-robin-4096-kernel-mix-q64-interpreter: ${interp.toFixed(1)} Msteps/s`);
    console.log(`cpu-core.round-robin-4096-kernel-mix-q64-blocks: ${blocks.toFixed(1)} Msteps/s`);
    console.log(`cpu-core.round-robin-4096-kernel-mix-q64-blocks-over-interpreter: ${(blocks / interp).toFixed(3)} ratio`);
  }
  {
    // One CPU, one long burst: blocks against the interpreter on kernel-shaped code, without the cost of changing CPUs.
    const interp = kernelMix(1, 8_000_000, 1 << 16, 'interpreter', 1 << 16);
    const blocks = kernelMix(1, 8_000_000, 1 << 16, 'blocks', 1 << 16);
    console.log(`cpu-core.kernel-mix-1-cpu-interpreter: ${interp.toFixed(1)} Msteps/s`);
    console.log(`cpu-core.kernel-mix-1-cpu-blocks: ${blocks.toFixed(1)} Msteps/s`);
    console.log(`cpu-core.kernel-mix-1-cpu-blocks-over-interpreter: ${(blocks / interp).toFixed(3)} ratio`);
  }
  for (const n of [4, 4096]) {
    const t = snapshotRestore(n);
    console.log(`cpu-core.snapshot-${n}-cpus: ${t.snapshot.toFixed(2)} us`);
    console.log(`cpu-core.restore-${n}-cpus: ${t.restore.toFixed(2)} us`);
  }
  console.log(`cpu-core.memory-4096-cpus: ${machineMemoryMB(1).toFixed(1)} MB`);
  console.log(`cpu-core.memory-4096-cpus-with-blocks: ${machineMemoryMB(64).toFixed(1)} MB`);
}
if (only === undefined || only === 'floor') {
  // The floor (bench/step-floor.ts) and the machine on the same mix, in the same run: the ratio is
  // the share of a quantum-1 step that the instruction's own loads and stores are.
  for (const n of [16, 4096]) console.log(`cpu-core.step-floor-${n}: ${stepFloor(n).toFixed(1)} Msteps/s`);
  const floor = stepFloor(4096);
  const mix = kernelMix(4096, 2_000_000);
  console.log(`cpu-core.step-floor-4096-beside-mix: ${floor.toFixed(1)} Msteps/s`);
  console.log(`cpu-core.round-robin-4096-kernel-mix-beside-floor: ${mix.toFixed(1)} Msteps/s`);
  console.log(`cpu-core.round-robin-4096-kernel-mix-over-floor: ${(mix / floor).toFixed(3)} ratio`);
}
if (only === undefined || only === 'reference') reference();
if (only === undefined || only === 'explore') await exploreBench();
