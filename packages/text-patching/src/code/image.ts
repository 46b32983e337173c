import type { Arch, AssembledCode } from '@kernsim/cpu-core';
import {
  SmpCodeContext,
  buildKprobeSlots,
  emitFtraceModCode,
  emitHandlers,
  emitInt3Entry,
  emitKprobeDebugEntry,
  emitKprobeInt3Handler,
  emitSync,
  smpLayoutOf,
} from '@kernsim/kernel/smp';
import type { KprobeSlot, SmpImage } from '@kernsim/kernel/smp';
import { TextPatchingError } from '../errors.js';
import { INT3, NOP5, callBytes, jmpBytes } from '../forms.js';
import { emitFtraceModify } from './ftrace-modify.js';
import { emitFunctions, functionName } from './functions.js';
import type { UserKind } from './functions.js';
import type { BpMode } from './patch-table.js';
import { emitOldBytesChecks } from './old-bytes.js';
import { emitPatchers } from './patchers.js';
import type { BpSync } from './patchers.js';
import { emitPokeInt3Handler } from './poke-int3.js';
import { emitQuiesceCheck } from './quiesce.js';
import { emitStopMachinePoke } from './stop-machine-poke.js';
import { emitTextPoke } from './text-poke.js';
import { emitWorkloads } from './workload.js';

export interface ImageOptions {
  readonly arch: Arch;
  readonly user: UserKind;
  readonly functions: number;
  /** 3.3 ftrace's NMI protocol: stop_machine writes via do_ftrace_mod_code and NMIs join in. */
  readonly ftraceNmiProtocol: boolean;
  /** How the #BP handler treats a trap at a site being patched. */
  readonly bpMode: BpMode;
  /** `on` patches the nops into calls/jumps; `off` starts from the calls/jumps and puts the nops back. */
  readonly direction: 'on' | 'off';
  /** The breakpoint protocol without one of its syncs (the explorer's weakened variants; default: all three). */
  readonly omitSync?: BpSync;
  /** More code assembled after everything else (the explorer's loop), so every other address stays as without it. */
  readonly extraCode?: (ctx: SmpCodeContext) => void;
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

/** The lean SMP kernel of `@kernsim/kernel/smp` with a patching user's functions, its sites and the patch routines assembled in. */
export interface PatchImage extends SmpImage {
  readonly user: UserKind;
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

/**
 * Assembles the lean SMP kernel with a patching user's functions, the workloads and the
 * patch routines: the kernel's parts (IPIs, stop_machine, #BP chain, kprobes, ftrace, NMI
 * and #GP handlers) come from `@kernsim/kernel/smp`, the patching methods from here.
 */
export function buildImage(options: ImageOptions): PatchImage {
  const layout = smpLayoutOf(options.arch);
  const ctx = new SmpCodeContext(options.arch, layout);
  emitFunctions(ctx, options.user, options.functions);
  emitWorkloads(ctx, options.functions);
  emitSync(ctx, { onInterrupt: emitQuiesceCheck });
  emitTextPoke(ctx);
  emitFtraceModCode(ctx);
  emitStopMachinePoke(ctx, { nmiSafeWrites: options.ftraceNmiProtocol });
  emitFtraceModify(ctx, { nmiSafeWrites: options.ftraceNmiProtocol });
  emitOldBytesChecks(ctx);
  emitPatchers(ctx, options.omitSync !== undefined ? { omitSync: options.omitSync } : {});
  emitPokeInt3Handler(ctx);
  emitKprobeInt3Handler(ctx);
  emitKprobeDebugEntry(ctx);
  emitInt3Entry(ctx, [{ label: 'poke_int3_handler', emulatesCall: true }, { label: 'kprobe_int3_handler' }]);
  emitHandlers(ctx, { ftraceNmiProtocol: options.ftraceNmiProtocol, nmiCalls: 'fn_table' });
  options.extraCode?.(ctx);
  const assembled = ctx.a.assemble();
  if (assembled.end - assembled.origin > BigInt(layout.textSize)) {
    throw new TextPatchingError('KERNSIM_PATCH_BAD_OPTIONS', `the image needs ${String(assembled.end - assembled.origin)} bytes; text holds ${String(layout.textSize)}`);
  }
  const bytes = new Uint8Array(assembled.bytes);
  const code: AssembledCode = { ...assembled, bytes };
  const symbols = new Map(assembled.labels);
  const sym = (name: string): bigint => lookup(symbols, name);

  const sites: PatchSite[] = [];
  let kprobes: readonly KprobeSlot[] = [];
  let slots: AssembledCode | undefined;
  if (options.user === 'kprobe') {
    const probes = Array.from({ length: options.functions }, (_, i) => sym(`${functionName('kprobe', i)}_site`));
    ({ slots, kprobes } = buildKprobeSlots(options.arch, layout, code, probes, sym('kprobe_pre_handler')));
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
        // 3.13's arch_jump_label_transform: text_poke_bp(code, ..., code + JUMP_LABEL_NOP_SIZE)
        // — a trapping CPU skips the site either way, it does not take the new branch.
        sites.push({ function: fn, address, oldBytes: NOP5, newBytes: jmpBytes(address, sym(`${fn}_on`)), mode: options.bpMode, handler: address + 5n });
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
    arch: options.arch,
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
