import type { AssembledCode, Machine } from '@kernsim/cpu-core';
import type { Kernel } from '@kernsim/kernel';
import { KERNEL_VECTOR } from '@kernsim/kernel';
import { STAT, varAddress } from '@kernsim/kernel/smp';
import type { VarName } from '@kernsim/kernel/smp';
import { buildPatcher, patcherLayout } from './code/patcher-image.js';
import type { PatchSite } from './code/image.js';
import { encodePatchTable, sortSites } from './code/tables.js';
import { TextPatchingError } from './errors.js';
import { callBytes } from './forms.js';

export interface PatcherSite {
  readonly address: bigint;
  /** The instruction to write; default: `call tp_tracer` (ftrace switched on at the site). */
  readonly newBytes?: readonly number[];
}

export interface PatcherOptions {
  readonly sites: readonly PatcherSite[];
  readonly method?: 'breakpoint' | 'stop-machine';
  /** What a CPU that traps on a site does: resume after it (default) or continue at the instruction after it anyway. */
  readonly bpMode?: 'skip' | 'handler';
}

export interface PatcherState {
  readonly started: boolean;
  readonly done: boolean;
  readonly syncRounds: number;
  readonly ipisSent: number;
  /** int3 traps resolved through the patch table. */
  readonly bpHits: number;
  /** Calls that reached `tp_tracer`. */
  readonly traceCalls: number;
  /** Per CPU: sync IPIs (or stopper wake-ups) taken, and cycles spent in them. */
  readonly perCpu: readonly { readonly ipisTaken: number; readonly stall: number }[];
}

export interface Patcher {
  readonly code: AssembledCode;
  readonly sites: readonly PatchSite[];
  /** `main`: the patching CPU's entry; `idle`: spin with interrupts on; `int3Hook`: in the kernel's int3 chain; `tracer`: the sites' call target. */
  readonly symbols: { readonly main: bigint; readonly idle: bigint; readonly int3Hook: bigint; readonly tracer: bigint };
  /** Where each site's bytes stand now, read from simulated memory. */
  bytes(): readonly (readonly number[])[];
  state(): PatcherState;
  /** Points a (kernel-mode) CPU at the patch routine: it patches, then idles with interrupts on. */
  startPatching(cpu: number): void;
  /** Points a kernel-mode CPU at a loop with interrupts on, so it answers the sync IPIs. */
  idle(cpu: number): void;
}

/** Bytes above the kernel's extra text where the writable alias of the sites' pages goes. */
const ALIAS_OFFSET = 0x10000n;

/** Maps a writable alias of each site's page, in page order from `base` on; returns page → alias. */
function mapAliases(m: Machine, sites: readonly PatcherSite[], base: bigint): Map<bigint, bigint> {
  const pages = [...new Set(sites.map((s) => s.address & ~0xfffn))].sort((x, y) => (x < y ? -1 : 1));
  const alias = new Map<bigint, bigint>();
  pages.forEach((page, i) => {
    const phys = m.translate(page);
    if (phys === undefined) throw new TextPatchingError('KERNSIM_PATCH_BAD_SITE', `site page 0x${page.toString(16)} is not mapped`);
    const at = base + BigInt(i * 4096);
    m.map(at, 4096, { phys });
    alias.set(page, at);
  });
  return alias;
}

/**
 * Loads the patcher into a booted kernel of `@kernsim/kernel`: its code and data go into
 * the kernel's free extra text and data, its IPI handlers on the kernel's IPI vectors
 * (CALL_FUNCTION: the sync IPI, RESCHEDULE: the stopper wake-up), its #BP hook into the
 * kernel's int3 chain (reading the trap ip from the kernel's `pt_regs`). The kernel maps
 * its text read-only, so the pokers write through a writable alias of the sites' pages,
 * as text_poke writes through a fixmap. Then call `startPatching(cpu)`.
 */
export function installPatcher(k: Kernel, options: PatcherOptions): Patcher {
  const m = k.machine;
  const bits = m.bitness;
  const kernelLayout = k.image.layout;
  const layout = patcherLayout(kernelLayout.extraText, kernelLayout.extraData);
  const code = buildPatcher(k.image.arch, layout, k.image.regs.ip);
  const sym = (name: string): bigint => {
    const at = code.labels.get(name);
    if (at === undefined) throw new TextPatchingError('KERNSIM_PATCH_BAD_SITE', `symbol ${name} is not in the patcher`);
    return at;
  };
  if (options.sites.length === 0 || options.sites.length > 512) {
    throw new TextPatchingError('KERNSIM_PATCH_BAD_OPTIONS', `sites must be 1..512, got ${String(options.sites.length)}`);
  }
  const mode = options.bpMode ?? 'skip';
  const alias = mapAliases(m, options.sites, kernelLayout.extraText + ALIAS_OFFSET);
  const sites = sortSites(
    options.sites.map((s) => {
      const oldBytes = Array.from(m.readBytes(s.address, s.newBytes?.length ?? 5));
      const newBytes = s.newBytes ?? callBytes(s.address, sym('tp_tracer'));
      const page = s.address & ~0xfffn;
      const via = alias.get(page);
      return {
        function: `site@${s.address.toString(16)}`,
        address: s.address,
        oldBytes,
        newBytes,
        mode,
        handler: s.address + BigInt(newBytes.length),
        ...(via !== undefined ? { pokeAddress: via + (s.address - page) } : {}),
      };
    }),
  );
  m.loadCode(code);
  const v = (name: VarName): bigint => varAddress(layout, name);
  const w = bits === 64 ? 8 : 4;
  m.writeBytes(layout.table, encodePatchTable(sites));
  m.write(v('bpVec'), w, layout.table);
  m.write(v('bpNr'), w, BigInt(sites.length));
  m.write(v('onlineCpus'), w, BigInt(m.cpus.length));
  m.setGate(KERNEL_VECTOR.CALL_FUNCTION, { handler: sym('call_function_interrupt') });
  m.setGate(KERNEL_VECTOR.RESCHEDULE, { handler: sym('reschedule_interrupt') });
  k.registerInt3Handler(sym('tp_int3_hook'));
  const routine = sym(options.method === 'stop-machine' ? 'patch_stop_machine' : 'patch_breakpoint');
  const main = sym('tp_patcher_main');
  const cx = bits === 64 ? 'rcx' : 'ecx';
  const rd = (name: VarName): number => Number(m.read(v(name), w));
  return {
    code,
    sites,
    symbols: { main, idle: sym('tp_idle'), int3Hook: sym('tp_int3_hook'), tracer: sym('tp_tracer') },
    bytes: () => sites.map((s) => Array.from(m.readBytes(s.address, s.newBytes.length))),
    state: () => ({
      started: rd('patchStarted') !== 0,
      done: rd('patchDone') !== 0,
      syncRounds: rd('syncRounds'),
      ipisSent: rd('ipisSent'),
      bpHits: rd('bpHits'),
      traceCalls: rd('traceCalls'),
      perCpu: m.cpus.map((_, i) => {
        const base = layout.work + BigInt(i * STAT.size);
        return { ipisTaken: Number(m.read(base + BigInt(STAT.ipis), w)), stall: Number(m.read(base + BigInt(STAT.stall), w)) };
      }),
    }),
    startPatching(cpu) {
      const c = m.cpus[cpu];
      if (c === undefined) throw new TextPatchingError('KERNSIM_PATCH_BAD_OPTIONS', `no CPU ${String(cpu)}`);
      c.setReg(cx, routine);
      c.rip = main;
    },
    idle(cpu) {
      const c = m.cpus[cpu];
      if (c === undefined) throw new TextPatchingError('KERNSIM_PATCH_BAD_OPTIONS', `no CPU ${String(cpu)}`);
      c.rip = sym('tp_idle');
    },
  };
}
