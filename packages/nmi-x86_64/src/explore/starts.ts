import { bootKernel } from '@kernsim/kernel';
import { PERCPU } from '@kernsim/kernel/entry-kit';
import type { Machine } from '@kernsim/cpu-core';
import type { BootOptions, CpuTask, Kernel, NmiEntry } from '@kernsim/kernel';
import { NmiX86Error } from '../errors.js';

/** Where a search starts: a state a real attacker or an unlucky system creates. */
export type StartId = 'user' | 'user-rsp-nmi-stack' | 'syscall' | 'kernel-thread' | 'breakpoint' | 'nmi-perf' | 'nmi-watchdog' | 'nmi-kprobe';

export interface StartState {
  readonly id: StartId;
  readonly title: string;
}

interface StartDef extends StartState {
  readonly task: () => CpuTask;
  readonly kprobes?: readonly string[];
  /** Runs CPU 0 from boot to the start point (deterministic). */
  readonly reach: (k: Kernel) => void;
  /** Sleeping tasks show_state walks (default: two well-formed ones). */
  readonly sleepers?: readonly { readonly name: string; readonly badFrame?: boolean }[];
  /**
   * Where the start's stretch of code is over (back in the loop it came from): a path ends
   * there once no NMI is active. Starts that raise their own first NMI end when its window closes.
   */
  readonly quietEnd?: (k: Kernel) => (m: Machine) => boolean;
}

const SLEEPERS = [{ name: 'kworker/0:1' }, { name: 'ksoftirqd/0' }];
/** The NMI stack top of CPU 0 in the x86_64 layout (the kernel's layout constants: ist + nmiStack[1]). */
const NMI_STACK_TOP0 = 0xffffffff81c00000n + 0x2000n;

function until(k: Kernel, what: string, pred: () => boolean, limit = 20_000): void {
  const m = k.machine;
  for (let i = 0; i < limit; i++) {
    if (pred()) return;
    m.step(0);
  }
  throw new NmiX86Error('KERNSIM_NMI64_BAD_EXPLORE', `start state not reached: ${what} within ${limit} steps`);
}

const atSymbol = (k: Kernel, name: string) => () => k.machine.cpus[0]!.rip === k.symbol(name);
const inUser = (k: Kernel) => () => k.machine.cpus[0]!.cpl === 3;

/** Back in user mode after one more system call than at the start. */
function afterSyscall(k: Kernel): (m: Machine) => boolean {
  const before = k.readPercpu(0, 'syscalls');
  const w = k.machine.bitness === 64 ? 8 : 4;
  const at = k.percpuBase(0) + BigInt(PERCPU.syscalls * w);
  return (m) => m.cpus[0]!.cpl === 3 && m.read(at, w) > before;
}

/** Once CPU 0 has executed `n` more instructions than at the start. */
function afterInstructions(k: Kernel, n: number): (m: Machine) => boolean {
  const end = k.machine.cpus[0]!.instructions + n;
  return (m) => m.cpus[0]!.instructions >= end;
}

/** Raises the first NMI from a PMU source and stops right before its delivery, so the search sees the delivery. */
function firstNmi(k: Kernel, source: 'sampler' | 'watchdog'): void {
  k.raisePmuNmi(0, source);
}

const DEFS: readonly StartDef[] = [
  {
    id: 'user',
    title: 'user mode, a getpid loop whose page table lacks the sampler\'s vmalloc buffer (every instruction of the syscall entry and exit follows)',
    task: () => ({ program: { kind: 'user-syscalls' }, bufferSynced: false }),
    reach: (k) => {
      until(k, 'user mode', inUser(k));
    },
    quietEnd: afterSyscall,
  },
  {
    id: 'user-rsp-nmi-stack',
    title: 'user mode with RSP pointing into this CPU\'s NMI stack',
    task: () => ({ program: { kind: 'user-stack-pointer', rsp: NMI_STACK_TOP0 - 0x30n }, bufferSynced: false }),
    reach: (k) => {
      until(k, 'user mode with the odd RSP', () => inUser(k)() && k.machine.cpus[0]!.rsp === NMI_STACK_TOP0 - 0x30n);
    },
    quietEnd: afterSyscall,
  },
  {
    id: 'syscall',
    title: 'the first instruction of the syscall entry (system_call), from a user task',
    task: () => ({ program: { kind: 'user-syscalls' }, bufferSynced: false }),
    reach: (k) => {
      until(k, 'system_call', atSymbol(k, 'system_call'));
    },
    quietEnd: afterSyscall,
  },
  {
    id: 'kernel-thread',
    title: 'a kernel thread spinning in kthread_loop',
    task: () => ({ program: { kind: 'kernel-loop' }, bufferSynced: true }),
    reach: (k) => {
      until(k, 'kthread_loop', atSymbol(k, 'kthread_loop'));
    },
    // The loop is two instructions: one turn shows every boundary.
    quietEnd: (k) => afterInstructions(k, 2),
  },
  {
    id: 'breakpoint',
    title: 'a kernel thread about to hit a kprobe: every instruction of the #BP entry and do_int3 follows (the NMI handler has a kprobe too)',
    task: () => ({ program: { kind: 'kernel-probed-loop' }, bufferSynced: true }),
    kprobes: ['kthread_work', 'perf_sample'],
    reach: (k) => {
      until(k, 'kthread_work', atSymbol(k, 'kthread_work'));
    },
    quietEnd: (k) => {
      const loop = k.symbol('kthread_probed_loop');
      return (m) => m.cpus[0]!.rip === loop;
    },
  },
  {
    id: 'nmi-perf',
    title: 'a sampler NMI arriving in user mode: its handler touches the vmalloc buffer for the first time (#PF in NMI context)',
    task: () => ({ program: { kind: 'user-syscalls' }, bufferSynced: false }),
    reach: (k) => {
      until(k, 'user mode', inUser(k));
      firstNmi(k, 'sampler');
    },
  },
  {
    id: 'nmi-watchdog',
    title: 'a watchdog NMI on a locked-up kernel thread: the handler dumps every task; a sleeper\'s broken frame chain makes a careful read fault',
    task: () => ({ program: { kind: 'kernel-lockup' }, bufferSynced: true, lockedUp: true }),
    sleepers: [{ name: 'kworker/0:1', badFrame: true }],
    reach: (k) => {
      until(k, 'kthread_lockup_spin', atSymbol(k, 'kthread_lockup_spin'));
      firstNmi(k, 'watchdog');
    },
  },
  {
    id: 'nmi-kprobe',
    title: 'a sampler NMI whose handler hits kprobes on perf_sample and nmi_traced_fn (#BP in NMI context, twice)',
    task: () => ({ program: { kind: 'user-syscalls' }, bufferSynced: true }),
    kprobes: ['perf_sample', 'nmi_traced_fn'],
    reach: (k) => {
      until(k, 'user mode', inUser(k));
      firstNmi(k, 'sampler');
    },
  },
];

export const START_IDS: readonly StartId[] = DEFS.map((d) => d.id);
export const START_STATES: readonly StartState[] = DEFS.map(({ id, title }) => ({ id, title }));

/** Start states that exist on i386 too (no IST there: no RSP inside an NMI stack to start from). */
export const I386_START_IDS: readonly StartId[] = START_IDS.filter((id) => id !== 'user-rsp-nmi-stack');

/** Boots a one-CPU kernel with the entry (x86_64 or i386, as the entry says) and brings CPU 0 to the start state; `quietEnd` as the StartDef says (at once, for starts with their own NMI: their paths end when its window closes). */
export function bootAtStart(entry: NmiEntry, start: StartId): { kernel: Kernel; quietEnd: (m: Machine) => boolean } {
  const d = DEFS.find((x) => x.id === start);
  if (!d) throw new NmiX86Error('KERNSIM_NMI64_BAD_EXPLORE', `unknown start state ${start}; expected one of ${START_IDS.join(', ')}`);
  if (entry.arch === 'i386' && !I386_START_IDS.includes(start)) throw new NmiX86Error('KERNSIM_NMI64_BAD_EXPLORE', `start state ${start} exists on x86_64 only; on i386: ${I386_START_IDS.join(', ')}`);
  const options: BootOptions = { arch: entry.arch, entry, cpus: [d.task()], sleepers: d.sleepers ?? SLEEPERS, kprobes: d.kprobes ?? [], serialCyclesPerByte: 0 };
  const k = bootKernel(options);
  if (entry.arch === 'x86_64' && k.nmiStackTop(0) !== NMI_STACK_TOP0) throw new NmiX86Error('KERNSIM_NMI64_BAD_EXPLORE', `expected CPU 0's NMI stack top at 0x${NMI_STACK_TOP0.toString(16)}, found 0x${k.nmiStackTop(0).toString(16)}`);
  d.reach(k);
  return { kernel: k, quietEnd: d.quietEnd ? d.quietEnd(k) : () => true };
}
