// A reference from a real JIT emulator, where the host has one: QEMU's user-mode x86_64 emulator
// (Debian's qemu-user-static or qemu-user, or the binary `KERNSIM_QEMU` names) and a C compiler
// to assemble two small static programs. Neither is installed by the bench: without them it says
// so and prints nothing else.
//
// The programs: the bench's one-CPU loop (add/mov/and/store/sub/jne, as `cpu-core.mips` runs it)
// and a user-mode stand-in for the kernel mix (the same fifteen-instruction shape — call into a
// function with an ftrace prologue, a locked increment, a shift, a load-add, a compare — with a
// RIP-relative page for %gs, `mov` for rdmsr, and `sub`/`jne` closing the loop). Each runs in
// QEMU's normal mode (translation blocks chained, many guest instructions per block) and with one
// guest instruction per block, the closest a JIT comes to stopping at every instruction boundary,
// as kernsim's quantum-1 round robin must.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SOURCE = `
  .globl _start
  .text
_start:
  cmpq $1, (%rsp)
  jne mix
  mov $LOOP_ITERATIONS, %rcx
  xor %eax, %eax
1: add $3, %rax
  mov %rax, %rdx
  and $0xff, %rdx
  mov %rdx, data(%rip)
  sub $1, %rcx
  jne 1b
  jmp done
mix:
  mov $MIX_ITERATIONS, %r12
2: call func
  lock incq percpu+8(%rip)
  mov $0x802, %ecx
  mov %ecx, %eax
  shl $3, %rax
  add data(%rip), %rax
  cmpq $0, data+8(%rip)
  sub $1, %r12
  jne 2b
done:
  mov $60, %eax
  xor %edi, %edi
  syscall
func:
  push %rbp
  mov %rsp, %rbp
  .byte 0x0f, 0x1f, 0x44, 0x00, 0x00
  mov percpu(%rip), %rax
  pop %rbp
  ret
  .data
data: .quad 0, 0
percpu: .quad 0, 0
`;

/** Guest instructions per iteration of each program's loop. */
const PER_ITERATION = { loop: 6, mix: 15 } as const;

export type QemuProgram = keyof typeof PER_ITERATION;
export type QemuMode = 'chained' | 'one-insn-per-tb';

export interface QemuReference {
  readonly binary: string;
  /** Guest instructions per second of CPU time (millions), per program and mode. */
  readonly rates: Record<QemuProgram, Record<QemuMode, number>>;
}

function runs(command: string, args: readonly string[]): boolean {
  const r = spawnSync(command, args, { stdio: 'ignore' });
  return r.error === undefined && r.status === 0;
}

function findQemu(): string | undefined {
  const named = process.env.KERNSIM_QEMU;
  const candidates = named !== undefined && named !== '' ? [named] : ['qemu-x86_64-static', 'qemu-x86_64'];
  return candidates.find((c) => runs(c, ['-version']));
}

/** QEMU 8.1 renamed `-singlestep` to `-one-insn-per-tb`; ask the binary which it knows. */
function oneInsnFlag(qemu: string): string {
  const help = spawnSync(qemu, ['-h'], { encoding: 'utf8' });
  return `${help.stdout}${help.stderr}`.includes('-one-insn-per-tb') ? '-one-insn-per-tb' : '-singlestep';
}

/** Clock ticks per second of /proc's times (100 on Linux unless getconf says otherwise). */
function clockTicks(): number {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = Number(r.stdout);
  return r.status === 0 && n > 0 ? n : 100;
}

/** CPU time (user + system, seconds) of the children this process has waited for, from /proc. */
function childrenCpuSeconds(ticks: number): number | undefined {
  try {
    // The fields after the command name (which may hold spaces) start at field 3; cutime and cstime are fields 16 and 17.
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[13]) + Number(fields[14])) / ticks;
  } catch {
    return undefined;
  }
}

/** Runs the program once and returns its CPU seconds (wall seconds where /proc is missing). */
function timeRun(qemu: string, flags: readonly string[], exe: string, program: QemuProgram, ticks: number): number {
  const args = [...flags, exe, ...(program === 'mix' ? ['mix'] : [])];
  const c0 = childrenCpuSeconds(ticks);
  const t0 = performance.now();
  const r = spawnSync(qemu, args, { stdio: 'ignore' });
  const wall = (performance.now() - t0) / 1000;
  if (r.error !== undefined || r.status !== 0) throw new Error(`${qemu} ${args.join(' ')} failed (status ${String(r.status)})`);
  const c1 = childrenCpuSeconds(ticks);
  return c0 !== undefined && c1 !== undefined ? c1 - c0 : wall;
}

/** Iterations so that each run takes about a second here (QEMU runs about 60 times slower one instruction per block). */
const ITERATIONS: Record<QemuMode, Record<QemuProgram, number>> = {
  chained: { loop: 1_000_000_000, mix: 200_000_000 },
  'one-insn-per-tb': { loop: 20_000_000, mix: 8_000_000 },
};

/**
 * Measures QEMU on both programs in both modes (best of `rounds` runs each, in the children's
 * CPU time), or returns the reason it cannot when the host lacks QEMU or a C compiler.
 */
export function qemuReference(rounds = 3): QemuReference | string {
  const qemu = findQemu();
  if (qemu === undefined) return 'QEMU user mode not found (install Debian\'s qemu-user-static, or set KERNSIM_QEMU to a qemu-x86_64 binary)';
  const cc = ['cc', 'gcc'].find((c) => runs(c, ['--version']));
  if (cc === undefined) return 'no C compiler (cc or gcc) to assemble the reference programs';
  const ticks = clockTicks();
  const dir = mkdtempSync(join(tmpdir(), 'kernsim-qemu-'));
  try {
    const rates = { loop: { chained: 0, 'one-insn-per-tb': 0 }, mix: { chained: 0, 'one-insn-per-tb': 0 } };
    for (const mode of ['chained', 'one-insn-per-tb'] as const) {
      const n = ITERATIONS[mode];
      const src = join(dir, `${mode}.S`);
      const exe = join(dir, mode);
      writeFileSync(src, SOURCE.replace('LOOP_ITERATIONS', String(n.loop)).replace('MIX_ITERATIONS', String(n.mix)));
      const built = spawnSync(cc, ['-nostdlib', '-static', '-o', exe, src], { encoding: 'utf8' });
      if (built.status !== 0) return `${cc} could not assemble the reference programs: ${built.stderr.split('\n')[0] ?? ''}`;
      const flags = mode === 'chained' ? [] : [oneInsnFlag(qemu)];
      for (const program of ['loop', 'mix'] as const) {
        let best = Infinity;
        for (let r = 0; r < rounds; r++) best = Math.min(best, timeRun(qemu, flags, exe, program, ticks));
        rates[program][mode] = (n[program] * PER_ITERATION[program]) / best / 1e6;
      }
    }
    return { binary: qemu, rates };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
