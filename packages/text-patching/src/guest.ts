import type { AssembledCode, Machine } from '@kernsim/cpu-core';
import { VECTOR } from './code/context.js';
import { buildGuestPatcher, guestLayout } from './code/guest-image.js';
import type { PatchSite } from './code/image.js';
import { STAT, varAddress } from './code/layout.js';
import type { VarName } from './code/layout.js';
import { encodePatchTable, sortSites } from './code/tables.js';
import { TextPatchingError } from './errors.js';
import { callBytes } from './forms.js';

export interface GuestSite {
  readonly address: bigint;
  /** The instruction to write; default: `call tp_tracer` (ftrace switched on at the site). */
  readonly newBytes?: readonly number[];
}

export interface GuestPatcherOptions {
  /** 64 KiB of mapped kernel text for the patcher's code. */
  readonly text: bigint;
  /** 64 KiB of mapped, writable kernel data for its control words, patch table and statistics. */
  readonly data: bigint;
  readonly sites: readonly GuestSite[];
  /** Offset of the saved instruction pointer in the kernel's `struct pt_regs` (the #BP hook's argument). */
  readonly ptRegsIp: number;
  readonly method?: 'breakpoint' | 'stop-machine';
  /** What a CPU that traps on a site does: resume after it (default) or continue at the instruction after it anyway. */
  readonly bpMode?: 'skip' | 'handler';
  /**
   * Where to map a writable alias of the sites' text pages (one page each, in page order),
   * when the kernel maps its text read-only: the pokers write through it, as text_poke
   * writes through a fixmap.
   */
  readonly aliasAt?: bigint;
}

export interface GuestPatcherState {
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

export interface GuestPatcher {
  readonly code: AssembledCode;
  readonly sites: readonly PatchSite[];
  /** `main`: the patching CPU's entry; `idle`: spin with interrupts on; `int3Hook`: for the kernel's int3 chain; `tracer`: the sites' call target. */
  readonly symbols: { readonly main: bigint; readonly idle: bigint; readonly int3Hook: bigint; readonly tracer: bigint };
  /** Where each site's bytes stand now, read from simulated memory. */
  bytes(): readonly (readonly number[])[];
  state(): GuestPatcherState;
  /** Points a (kernel-mode) CPU at the patch routine: it patches, then idles with interrupts on. */
  startPatching(cpu: number): void;
  /** Points a kernel-mode CPU at a loop with interrupts on, so it answers the sync IPIs. */
  idle(cpu: number): void;
}

/**
 * Loads the patcher into a machine that already runs a kernel (the kernel maps `text` and
 * `data`), installs its IPI gates (0xfc: the sync IPI's `call_function_interrupt`, 0xfd:
 * the stopper wake-up) and fills its patch table. The caller registers `symbols.int3Hook`
 * with the kernel's #BP path and calls `startPatching(cpu)`.
 */
export function installGuestPatcher(m: Machine, options: GuestPatcherOptions): GuestPatcher {
  const bits = m.bitness;
  const layout = guestLayout(options.text, options.data);
  const code = buildGuestPatcher(bits, layout, options.ptRegsIp);
  const sym = (name: string): bigint => {
    const at = code.labels.get(name);
    if (at === undefined) throw new TextPatchingError('KERNSIM_PATCH_BAD_SITE', `symbol ${name} is not in the patcher`);
    return at;
  };
  if (options.sites.length === 0 || options.sites.length > 512) {
    throw new TextPatchingError('KERNSIM_PATCH_BAD_OPTIONS', `sites must be 1..512, got ${String(options.sites.length)}`);
  }
  const mode = options.bpMode ?? 'skip';
  const pages = [...new Set(options.sites.map((s) => s.address & ~0xfffn))].sort((x, y) => (x < y ? -1 : 1));
  const alias = new Map<bigint, bigint>();
  if (options.aliasAt !== undefined) {
    pages.forEach((page, i) => {
      const phys = m.translate(page);
      if (phys === undefined) throw new TextPatchingError('KERNSIM_PATCH_BAD_SITE', `site page 0x${page.toString(16)} is not mapped`);
      const at = (options.aliasAt ?? 0n) + BigInt(i * 4096);
      m.map(at, 4096, { phys });
      alias.set(page, at);
    });
  }
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
  m.setGate(VECTOR.callFunction, { handler: sym('call_function_interrupt') });
  m.setGate(VECTOR.reschedule, { handler: sym('reschedule_interrupt') });
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
