import { Assembler, decodeOne } from '@kernsim/cpu-core';
import type { Arch, AssembledCode } from '@kernsim/cpu-core';
import { packWords } from '../data-area.js';
import { KernelError } from '../errors.js';
import { isaOf } from '../isa.js';
import { emitInt3TableLookup } from './bsearch.js';
import type { SmpCodeContext } from './code-context.js';
import { EFLAGS_IF, EFLAGS_TF } from './kprobe-step.js';
import { KPROBE_BOOST, KPROBE_ENTRY, STAT } from './layout.js';
import type { SmpLayout } from './layout.js';

export type KprobeBoost = keyof typeof KPROBE_BOOST;

/** One armed kprobe of the lean SMP kernel. */
export interface KprobeSlot {
  readonly address: bigint;
  /** The probed instruction, copied, and a jump back after it. */
  readonly slot: bigint;
  /** Optimized form's detour: pre-handler, the copied instructions, a jump back; undefined when the boundaries do not allow it. */
  readonly detour: bigint | undefined;
  /** Bytes of whole instructions the detour copies (at least 5), or 0. */
  readonly copied: number;
}

/**
 * `kprobe_int3_handler(di = &saved ip)` -> ax: a trap on an armed kprobe runs the probe's
 * pre-handler, then 3.3's `setup_singlestep()`: a boosted probe continues at its out-of-line
 * slot (the probed instruction, copied, then a jump back: no single step); any other becomes
 * this CPU's current kprobe (`set_current_kprobe()` keeps the flags' TF|IF) and
 * `prepare_singlestep()` sets TF, clears IF and continues at the slot's copy, so the copy
 * traps with #DB as soon as it has run (see `emitKprobeDebugEntry`).
 */
export function emitKprobeInt3Handler(ctx: SmpCodeContext): void {
  const { a, isa } = ctx;
  const no = ctx.local('kp_no');
  const boosted = ctx.local('kp_boosted');
  a.label('kprobe_int3_handler');
  emitInt3TableLookup(ctx, { guard: 'kprobeNr', vec: 'kprobeVec', nr: 'kprobeNr', shift: KPROBE_ENTRY.shift }, no);
  a.push(isa.ax);
  a.call(isa.word(isa.ax, KPROBE_ENTRY.handler));
  a.pop(isa.ax);
  a.mov(isa.dx, isa.word(isa.ax, KPROBE_ENTRY.slot));
  a.mov(isa.si, isa.word(isa.sp)).mov(isa.word(isa.si), isa.dx);
  a.cmp(isa.word(isa.ax, KPROBE_ENTRY.boost), KPROBE_BOOST.boosted).je(boosted);
  // set_current_kprobe(): this CPU's kprobe_ctlblk remembers the probe and TF|IF
  a.push(isa.ax);
  ctx.cpuStat(isa.ax);
  a.pop(isa.cx);
  a.mov(isa.word(isa.ax, STAT.kprobeCur), isa.cx);
  a.mov(isa.dx, isa.word(isa.si, 2 * isa.w));
  a.mov(isa.cx, isa.dx).and(isa.cx, EFLAGS_TF | EFLAGS_IF);
  a.mov(isa.word(isa.ax, STAT.kprobeFlags), isa.cx);
  // prepare_singlestep(): TF on, IF off, the copy runs alone
  a.and(isa.dx, ~EFLAGS_IF).or(isa.dx, EFLAGS_TF);
  a.mov(isa.word(isa.si, 2 * isa.w), isa.dx);
  a.label(boosted);
  a.mov(isa.eax, 1);
  const out = ctx.local('kp_out');
  a.jmp(out);
  a.label(no);
  a.xor(isa.eax, isa.eax);
  a.label(out);
  a.pop(isa.di).pop(isa.si).pop(isa.dx).pop(isa.cx).pop(isa.bx);
  a.ret();
}

/** `kprobe_pre_handler`: the probes' pre-handler (it counts its runs per CPU). */
export function emitKprobePreHandler(ctx: SmpCodeContext): void {
  const { a } = ctx;
  a.label('kprobe_pre_handler');
  ctx.countTraced();
  a.ret();
}

function lookup(symbols: ReadonlyMap<string, bigint>, name: string): bigint {
  const at = symbols.get(name);
  if (at === undefined) throw new KernelError('KERNSIM_KERNEL_UNKNOWN_SYMBOL', `symbol ${name} is not in the kprobe slots`);
  return at;
}

/**
 * For every probe (an address in `code`): the out-of-line slot (the probed instruction and
 * a jump back, a "boosted" probe) and the optimized probe's detour, which calls the
 * pre-handler and covers whole instructions until at least 5 bytes (the `jmp rel32`) are
 * copied — can_optimize()'s boundary rule. Assembled at `layout.slots`; `kprobe_slots_end`
 * marks the end of the slots of optimizable probes.
 */
export function buildKprobeSlots(
  arch: Arch,
  layout: SmpLayout,
  code: AssembledCode,
  probes: readonly bigint[],
  preHandler: bigint,
): { readonly slots: AssembledCode; readonly kprobes: readonly KprobeSlot[] } {
  const isa = isaOf(arch);
  const bits = isa.bits;
  const a = new Assembler({ bitness: bits, origin: layout.slots });
  const pending: { address: bigint; copied: number; optimizable: boolean }[] = [];
  for (const address of probes) {
    const at = Number(address - code.origin);
    const copied = optimizableRun(code.bytes.subarray(at, at + 32), address, bits);
    pending.push({ address, copied, optimizable: copied > 0 });
  }
  // The slots of probes to be optimized first, up to `kprobe_slots_end`: a CPU there is
  // about to jump back into bytes the jmp replaces, which the quiescence check tells by
  // address. Then the other probes' slots and the detours, which lead elsewhere.
  const emitSlot = (i: number): void => {
    const address = pending[i]!.address;
    const at = Number(address - code.origin);
    const first = decodeOne(code.bytes.subarray(at, at + 16), address, bits);
    a.align(16).label(`kprobe_slot_${String(i)}`);
    a.db(code.bytes.subarray(at, at + first.length));
    a.jmp(address + BigInt(first.length));
  };
  pending.forEach((p, i) => {
    if (p.optimizable) emitSlot(i);
  });
  a.align(16).label('kprobe_slots_end');
  pending.forEach((p, i) => {
    if (!p.optimizable) emitSlot(i);
  });
  a.align(16).label('kprobe_detours');
  for (const [i, p] of pending.entries()) {
    if (!p.optimizable) continue;
    const { address, copied } = p;
    const at = Number(address - code.origin);
    a.align(16).label(`kprobe_detour_${String(i)}`);
    a.push(isa.ax).push(isa.cx).push(isa.dx).push(isa.si).push(isa.di);
    a.mov(isa.di, address);
    a.call(preHandler);
    a.pop(isa.di).pop(isa.si).pop(isa.dx).pop(isa.cx).pop(isa.ax);
    a.db(code.bytes.subarray(at, at + copied));
    a.jmp(address + BigInt(copied));
  }
  const slots = a.assemble();
  const kprobes = pending.map((p, i) => ({
      address: p.address,
      slot: lookup(slots.labels, `kprobe_slot_${String(i)}`),
      detour: p.optimizable ? lookup(slots.labels, `kprobe_detour_${String(i)}`) : undefined,
      copied: p.copied,
  }));
  return { slots, kprobes };
}

/**
 * can_optimize()'s boundary rule, simplified: whole instructions from the probe on, none of
 * them a jump, call or return, must cover the 5 bytes the jmp rel32 replaces. Returns the
 * bytes they cover, or 0 when they cannot.
 */
export function optimizableRun(bytes: Uint8Array, address: bigint, bits: 32 | 64): number {
  let copied = 0;
  while (copied < 5) {
    const insn = decodeOne(bytes.subarray(copied, copied + 16), address + BigInt(copied), bits);
    if (!insn.valid || insn.mnemonic.startsWith('ret') || insn.mnemonic.startsWith('j') || insn.mnemonic.startsWith('call')) return 0;
    copied += insn.length;
  }
  return copied;
}

/**
 * The kprobe table's bytes (`KPROBE_ENTRY` entries, 8-byte words on both architectures),
 * sorted by probe address; every probe starts in `boost` (default `afterStep`: 3.3 on a
 * kernel without CONFIG_PREEMPT, whose probes without post-handler are boosted after their
 * first single step).
 */
export function encodeKprobeTable(probes: readonly KprobeSlot[], handler: bigint, boost: KprobeBoost = 'afterStep'): Uint8Array {
  const sorted = [...probes].sort((x, y) => (x.address < y.address ? -1 : 1));
  const out = new Uint8Array(Math.max(1, sorted.length) * KPROBE_ENTRY.size);
  sorted.forEach((p, i) => {
    out.set(packWords([p.address, p.slot, handler, BigInt(KPROBE_BOOST[boost])], 8), i * KPROBE_ENTRY.size + KPROBE_ENTRY.addr);
  });
  return out;
}
