import type { AddressSpace, Machine } from '@kernsim/cpu-core';
import type { CpuTask, TaskInfo } from './boot.js';
import { TASK } from './code/show-state.js';
import { packWords } from './data-area.js';
import type { KernelImage } from './kernel-image.js';

const BUFFER_BYTES = 4096;

/** Maps the kernel image, data, kprobe slots, extra room, per-CPU areas, exception stacks and task stacks, and loads code, data and symbols. */
export function mapKernelMemory(m: Machine, image: KernelImage, ncpu: number, taskCount: number): void {
  const { layout } = image;
  m.map(layout.text, layout.textSize, { writable: false });
  m.map(layout.data, layout.dataSize);
  m.map(layout.kprobeSlots, 4096, { writable: false });
  m.map(layout.extraText, 0x10000);
  m.map(layout.extraData, 0x10000);
  for (let c = 0; c < ncpu; c++) {
    m.map(layout.percpu + BigInt(c * layout.percpuStride), 4096);
    if (image.arch === 'x86_64') {
      const ist = layout.ist + BigInt(c * layout.istStride);
      m.map(ist + BigInt(layout.nmiStack[0]), layout.nmiStack[1] - layout.nmiStack[0]);
      m.map(ist + BigInt(layout.debugStack[0]), layout.debugStack[1] - layout.debugStack[0]);
      m.map(ist + 0x8000n, 0x1000);
    }
  }
  for (let i = 0; i < taskCount; i++) m.map(layout.stacks + BigInt(i * layout.stackStride), layout.threadSize);
  m.loadCode(image.text);
  for (const [, item] of image.data.entries()) m.writeBytes(item.address, item.bytes);
  m.addSymbols(image.symbols);
}

/** Address spaces: kernel threads run on the reference table, user tasks get their own with user text and a user stack. */
export function taskSpaces(m: Machine, image: KernelImage, cpus: readonly CpuTask[]): AddressSpace[] {
  const { layout } = image;
  const K = m.kernelSpace;
  const spaces: AddressSpace[] = cpus.map((c) => (c.program.kind.startsWith('user') ? m.createAddressSpace() : K));
  spaces.forEach((s, i) => {
    if (s === K) return;
    m.map(layout.userText, 4096, { space: s, user: true, writable: false });
    m.loadCode(image.userText, { space: s });
    m.map(layout.userStack + BigInt(i * layout.userStackStride), layout.userStackStride, { space: s, user: true });
  });
  return spaces;
}

/**
 * The perf buffers: vmalloc'd after the task tables exist, so only the reference table has
 * them; a task that is `bufferSynced` gets the reference table's top-level entry now.
 */
export function mapPerfBuffers(m: Machine, image: KernelImage, cpus: readonly CpuTask[], spaces: readonly AddressSpace[]): bigint[] {
  const { layout, arch } = image;
  const w = image.isa.w;
  const K = m.kernelSpace;
  const buffers = cpus.map((_, c) => layout.vmalloc + BigInt(c * BUFFER_BYTES * 2));
  buffers.forEach((b) => {
    m.map(b, BUFFER_BYTES);
  });
  const pgdIndex = (v: bigint): bigint => (arch === 'x86_64' ? (v >> 39n) & 511n : v >> 22n);
  const refEntry = m.read(K.pgd + pgdIndex(layout.vmalloc) * BigInt(w), w);
  cpus.forEach((c, i) => {
    const s = spaces[i]!;
    if (s !== K && c.bufferSynced) m.write(s.pgd + pgdIndex(layout.vmalloc) * BigInt(w), w, refEntry);
  });
  return buffers;
}

/** Fills each task's `task_struct` and the task table; a sleeping task's stack gets a frame chain for show_state. */
export function writeTasks(
  m: Machine,
  image: KernelImage,
  names: readonly string[],
  spaces: readonly AddressSpace[],
  badFrame: (sleeper: number) => boolean,
  symbol: (name: string) => bigint,
): TaskInfo[] {
  const { layout } = image;
  const w = image.isa.w;
  const ncpu = spaces.length;
  const tasks: TaskInfo[] = names.map((name, i) => {
    const address = symbol(`task_${String(i)}`);
    const stackBase = layout.stacks + BigInt(i * layout.stackStride);
    const stackTop = stackBase + BigInt(layout.threadSize);
    const cpu = i < ncpu ? i : undefined;
    const space = cpu !== undefined ? spaces[cpu]! : m.kernelSpace;
    const bad = cpu === undefined && badFrame(i - ncpu);
    const bp = writeFrameChain(m, image, stackTop, bad);
    const fields: bigint[] = new Array<bigint>(TASK.words).fill(0n);
    fields[TASK.pid] = BigInt(i + 1);
    fields[TASK.name] = symbol(`task_name_${String(i)}`);
    fields[TASK.bp] = bp;
    fields[TASK.sp] = bp;
    fields[TASK.state] = BigInt(cpu !== undefined ? 0x52 : 0x53);
    fields[TASK.mm] = space.cr3;
    fields[TASK.cpu] = BigInt(cpu ?? 0);
    fields[TASK.stack] = stackBase;
    m.writeBytes(address, packWords(fields, w));
    m.write(symbol('task_table') + BigInt(i * w), w, address);
    return { index: i, name, pid: i + 1, address, cpu, space, stackTop };
  });
  m.write(symbol('nr_tasks'), w, BigInt(tasks.length));
  return tasks;
}

/**
 * Builds a sleeping task's call chain near the top of its stack: frames of
 * [saved frame pointer, return address] (a return address points into kernel text).
 * A bad chain's second frame pointer points at unmapped memory.
 */
function writeFrameChain(m: Machine, image: KernelImage, stackTop: bigint, bad: boolean): bigint {
  const w = BigInt(image.isa.w);
  const rets = ['kthread_loop', 'kthread_work', 'cpu_startup'].map((s) => (image.symbols.get(s) ?? image.layout.text) + 2n);
  const frames = [stackTop - 0x100n, stackTop - 0xc0n, stackTop - 0x80n];
  frames.forEach((fp, k) => {
    const next = k + 1 < frames.length ? frames[k + 1]! : 0n;
    const link = bad && k === 1 ? image.layout.unmapped : next;
    m.write(fp, Number(w) as 4 | 8, link);
    m.write(fp + w, Number(w) as 4 | 8, rets[k]!);
  });
  return frames[0]!;
}
