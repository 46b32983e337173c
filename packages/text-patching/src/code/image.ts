import { Assembler, decodeOne } from '@kernsim/cpu-core';
import type { AssembledCode } from '@kernsim/cpu-core';
import { TextPatchingError } from '../errors.js';
import { INT3, NOP5, callBytes, jmpBytes } from '../forms.js';
import { isaFor } from '../isa.js';
import type { Bits } from '../isa.js';
import { emitInt3Entry, emitKprobeInt3Handler, emitPokeInt3Handler } from './bp-handler.js';
import { CodeContext } from './context.js';
import { emitFunctions, functionName } from './functions.js';
import type { UserKind } from './functions.js';
import { emitHandlers } from './handlers.js';
import { layoutFor } from './layout.js';
import type { BpMode, Layout } from './layout.js';
import { emitPatchers } from './patchers.js';
import { emitStopMachine } from './stop-machine.js';
import { emitSync } from './sync.js';
import { emitTextPoke } from './text-poke.js';
import { emitWorkloads } from './workload.js';

export interface ImageOptions {
  readonly bits: Bits;
  readonly user: UserKind;
  readonly functions: number;
  /** 3.3 ftrace's NMI protocol: stop_machine writes via do_ftrace_mod_code and NMIs join in. */
  readonly ftraceNmiProtocol: boolean;
  /** How the #BP handler treats a trap at a site being patched. */
  readonly bpMode: BpMode;
  /** `on` patches the nops into calls/jumps; `off` starts from the calls/jumps and puts the nops back. */
  readonly direction: 'on' | 'off';
}

/** One site to patch: its address, the bytes it holds and the bytes it should hold. */
export interface PatchSite {
  readonly function: string;
  readonly address: bigint;
  readonly oldBytes: readonly number[];
  readonly newBytes: readonly number[];
  readonly mode: BpMode;
  /** Where a CPU that traps on the site continues in `handler` mode. */
  readonly handler: bigint;
  /** Where the patcher writes the bytes when the text itself is mapped read-only (a writable alias). */
  readonly pokeAddress?: bigint;
  /** Bytes of whole old instructions the new one covers, when more than its length. */
  readonly span?: number;
}

export interface KprobeSlot {
  readonly address: bigint;
  /** The probed instruction, copied, and a jump back after it. */
  readonly slot: bigint;
  /** Optimized form's detour: pre-handler, the copied instructions, a jump back; undefined when the boundaries do not allow it. */
  readonly detour: bigint | undefined;
  /** Bytes of whole instructions the detour copies (at least 5), or 0. */
  readonly copied: number;
}

export interface KernelImage {
  readonly bits: Bits;
  readonly layout: Layout;
  readonly user: UserKind;
  readonly code: AssembledCode;
  /** Out-of-line slots and detours (kprobes only). */
  readonly slots: AssembledCode | undefined;
  readonly sites: readonly PatchSite[];
  readonly kprobes: readonly KprobeSlot[];
  readonly symbols: ReadonlyMap<string, bigint>;
  symbol(name: string): bigint;
}

function lookup(symbols: ReadonlyMap<string, bigint>, name: string): bigint {
  const at = symbols.get(name);
  if (at === undefined) throw new TextPatchingError('KERNSIM_PATCH_BAD_SITE', `symbol ${name} is not in the image`);
  return at;
}

/** Assembles the patching kernel: users' functions, workloads, handlers, patchers. */
export function buildImage(options: ImageOptions): KernelImage {
  const layout = layoutFor(options.bits);
  const ctx = new CodeContext(options.bits, layout);
  emitFunctions(ctx, options.user, options.functions);
  emitWorkloads(ctx, options.functions);
  emitSync(ctx);
  emitTextPoke(ctx);
  emitStopMachine(ctx, { nmiSafeWrites: options.ftraceNmiProtocol });
  emitPatchers(ctx);
  emitPokeInt3Handler(ctx);
  emitKprobeInt3Handler(ctx);
  emitInt3Entry(ctx);
  emitHandlers(ctx, { ftraceNmiProtocol: options.ftraceNmiProtocol });
  const assembled = ctx.a.assemble();
  if (assembled.end - assembled.origin > BigInt(layout.textSize)) {
    throw new TextPatchingError('KERNSIM_PATCH_BAD_OPTIONS', `the image needs ${String(assembled.end - assembled.origin)} bytes; text holds ${String(layout.textSize)}`);
  }
  const bytes = new Uint8Array(assembled.bytes);
  const code: AssembledCode = { ...assembled, bytes };
  const symbols = new Map(assembled.labels);
  const sym = (name: string): bigint => lookup(symbols, name);

  const sites: PatchSite[] = [];
  const kprobes: KprobeSlot[] = [];
  let slots: AssembledCode | undefined;
  if (options.user === 'kprobe') {
    slots = buildKprobeSlots(options.bits, layout, code, options.functions, sym, kprobes);
    for (const [name, at] of slots.symbols) symbols.set(name, at);
  }
  for (let i = 0; i < options.functions; i++) {
    const fn = functionName(options.user, i);
    const address = sym(`${fn}_site`);
    const at = Number(address - code.origin);
    switch (options.user) {
      case 'ftrace':
        sites.push({ function: fn, address, oldBytes: NOP5, newBytes: callBytes(address, sym('ftrace_caller')), mode: options.bpMode, handler: address + 5n });
        break;
      case 'static-key':
        sites.push({ function: fn, address, oldBytes: NOP5, newBytes: jmpBytes(address, sym(`${fn}_on`)), mode: options.bpMode, handler: sym(`${fn}_on`) });
        break;
      case 'kprobe': {
        const probe = kprobes[i];
        if (probe === undefined) throw new TextPatchingError('KERNSIM_PATCH_BAD_SITE', `no kprobe slot for ${fn}`);
        // The probe is armed: its first byte already is int3.
        bytes[at] = INT3;
        // Only optimizable probes are patched; the others stay int3 probes (can_optimize() said no).
        if (probe.detour === undefined) break;
        const oldBytes = Array.from(bytes.subarray(at, at + 5));
        sites.push({ function: fn, address, oldBytes, newBytes: jmpBytes(address, probe.detour), mode: 'handler', handler: probe.detour, span: probe.copied });
        break;
      }
    }
  }
  if (options.direction === 'off') {
    if (options.user === 'kprobe') throw new TextPatchingError('KERNSIM_PATCH_BAD_OPTIONS', 'kprobe sites can only be patched on (armed int3 to optimized jmp)');
    // The image starts switched on: each site holds the call/jump, and the patch restores the nop.
    sites.forEach((s, i) => {
      bytes.set(s.newBytes, Number(s.address - code.origin));
      sites[i] = { ...s, oldBytes: s.newBytes, newBytes: s.oldBytes, handler: s.address + BigInt(s.oldBytes.length) };
    });
  }
  return {
    bits: options.bits,
    layout,
    user: options.user,
    code,
    slots,
    sites,
    kprobes,
    symbols,
    symbol: sym,
  };
}

/**
 * For every probed function: the out-of-line slot (the probed instruction and a jump back,
 * a "boosted" probe) and the optimized probe's detour, which covers whole instructions
 * until at least 5 bytes (the `jmp rel32`) are copied — can_optimize()'s boundary rule.
 */
function buildKprobeSlots(
  bits: Bits,
  layout: Layout,
  code: AssembledCode,
  count: number,
  sym: (name: string) => bigint,
  out: KprobeSlot[],
): AssembledCode {
  const isa = isaFor(bits);
  const a = new Assembler({ bitness: bits, origin: layout.slots });
  const pending: { address: bigint; copied: number; optimizable: boolean }[] = [];
  for (let i = 0; i < count; i++) {
    const address = sym(`${functionName('kprobe', i)}_site`);
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
    a.call(sym('kprobe_pre_handler'));
    a.pop(isa.di).pop(isa.si).pop(isa.dx).pop(isa.cx).pop(isa.ax);
    a.db(code.bytes.subarray(at, at + copied));
    a.jmp(address + BigInt(copied));
  }
  const slots = a.assemble();
  pending.forEach((p, i) => {
    out.push({
      address: p.address,
      slot: lookup(slots.labels, `kprobe_slot_${String(i)}`),
      detour: p.optimizable ? lookup(slots.labels, `kprobe_detour_${String(i)}`) : undefined,
      copied: p.copied,
    });
  });
  return slots;
}

/**
 * can_optimize()'s boundary rule, simplified: whole instructions from the probe on, none of
 * them a jump, call or return, must cover the 5 bytes the jmp rel32 replaces. Returns the
 * bytes they cover, or 0 when they cannot.
 */
export function optimizableRun(bytes: Uint8Array, address: bigint, bits: Bits): number {
  let copied = 0;
  while (copied < 5) {
    const insn = decodeOne(bytes.subarray(copied, copied + 16), address + BigInt(copied), bits);
    if (!insn.valid || insn.mnemonic.startsWith('ret') || insn.mnemonic.startsWith('j') || insn.mnemonic.startsWith('call')) return 0;
    copied += insn.length;
  }
  return copied;
}
