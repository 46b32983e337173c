import type { Assembler } from '../asm/assembler.js';
import { dword, imm, qword, reg } from '../asm/operands.js';
import type { Machine } from '../machine/machine.js';

/** Program pieces the differential tests share: each exercises a different part of the cycle model. */
export const COMMON_PIECES = ['pause', 'rep-stos', 'lock-add', 'store', 'rdtsc', 'cpuid', 'int3', 'alu', 'hlt'] as const;
export type CommonPiece = (typeof COMMON_PIECES)[number];

/** A random program of the differential tests: per CPU, the pieces of its loop, its timer and NMI-source periods. */
export interface PieceProgram<P extends string> {
  readonly cpus: number;
  readonly pieces: readonly (readonly P[])[];
  readonly timers: readonly (number | null)[];
  readonly nmiSources: readonly (number | null)[];
  readonly timing: 'flat' | 'modelled';
}

/** The accumulator, destination index, stack pointer and memory width of an architecture. */
export function flavour(arch: 'x86_64' | 'i386') {
  const wide = arch === 'x86_64';
  return { ax: wide ? reg.rax : reg.eax, di: wide ? reg.rdi : reg.edi, sp: wide ? reg.rsp : reg.esp, word: wide ? qword : dword };
}

/** Emits one shared piece for CPU `cpu`; `data` is the kit's data area (counters at +0x200, per-CPU words at +0x240). */
export function emitCommon(a: Assembler, piece: CommonPiece, cpu: number, data: bigint, arch: 'x86_64' | 'i386' = 'x86_64'): void {
  const { ax, di, word } = flavour(arch);
  switch (piece) {
    case 'pause':
      a.pause();
      break;
    case 'rep-stos':
      a.mov(reg.ecx, imm(5 + cpu)).mov(di, imm(data + 0x100n + BigInt(cpu * 0x40))).rep().stosb();
      break;
    case 'lock-add':
      a.lock().add(word(data + 0x200n), imm(1));
      break;
    case 'store':
      a.mov(word(data + 0x240n + BigInt(cpu * 8)), ax);
      break;
    case 'rdtsc':
      a.rdtsc();
      break;
    case 'cpuid':
      a.mov(reg.eax, imm(0)).cpuid();
      break;
    case 'int3':
      a.int3();
      break;
    case 'alu':
      a.add(ax, imm(3)).xor(ax, imm(cpu));
      break;
    case 'hlt':
      a.hlt();
      break;
  }
}

/** Starts every CPU of the program at its `cpu<i>` label with interrupts on, its timer (vector 0x30) and its NMI source. */
export function startPieceCpus(m: Machine, p: PieceProgram<string>, stackTop: (cpu: number) => bigint): void {
  for (let i = 0; i < p.cpus; i++) {
    m.start(i, { rip: `cpu${i}`, rsp: stackTop(i), interrupts: true });
    m.cpus[i]!.setTimer(p.timers[i] ?? null, 0x30);
    m.cpus[i]!.setNmiSource(p.nmiSources[i] ?? null);
  }
}
