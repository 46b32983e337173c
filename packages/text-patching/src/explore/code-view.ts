import type { Machine } from '@kernsim/cpu-core';
import type { Choice, Finding, Monitor } from '@kernsim/cpu-core/explore';
import { INT3, hex } from '../forms.js';

/** The names of the patch explorer's invariants, as reports print them. */
export const PATCH_INVARIANTS = {
  /** The machine's cross-modifying-code detector fired: #GP (`'fault'`) or a torn execution (`'execute'`). */
  torn: 'torn-instruction',
  /** The SDM lets a CPU that has not serialized since some bytes changed see a mix of old and new ones. */
  staleMix: 'stale-mix',
  /** A CPU died, took an int3 nobody claimed, or reached the #GP handler. */
  oops: 'oops',
  /** A CPU executed the site and went where neither the old nor the new instruction goes. */
  neither: 'neither-old-nor-new',
} as const;

export type PatchInvariantName = (typeof PATCH_INVARIANTS)[keyof typeof PATCH_INVARIANTS];

/**
 * Per CPU, per byte of the site: every value the CPU may fetch there. The SDM's rule for
 * cross-modifying code is that an executing CPU must serialize after another CPU's change
 * before it runs the changed bytes; until then it may still see any value the byte had since
 * its last serializing event. A serializing event collapses the sets to memory's bytes.
 */
export interface ViewState {
  readonly views: readonly (readonly (readonly number[])[])[];
  /** What the step about to run is (set by `before`, used by `after`; not part of the key). */
  readonly pending: PendingStep | undefined;
}

interface PendingStep {
  readonly cpu: number;
  readonly bytes: readonly number[];
  /** The step executes the instruction at the site's first byte (no event is delivered first). */
  readonly fetchesSite: boolean;
  /** The instruction about to run serializes (iret, cpuid, wrmsr, lidt, invlpg, mov to CR). */
  readonly serializing: boolean;
  /** A running CPU's step that retires no instruction delivered an event or an exception (int3 and faults included): it serialized. */
  readonly instructions: number;
  readonly running: boolean;
  readonly rsp: bigint;
}

export interface CodeViewConfig {
  readonly site: bigint;
  readonly oldBytes: readonly number[];
  readonly newBytes: readonly number[];
  /** True while a patch is in progress (the #BP handler claims an int3 at the site). */
  readonly patching: (m: Machine) => boolean;
  readonly symbolize: (a: bigint) => string;
}

const PREFIXES = new Set([0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x2e, 0x3e, 0x26, 0x36, 0x64, 0x65]);

/** Whether the instruction at the CPU's ip is one the machine serializes on (cpu-core's *Cross-modifying code*). */
function serializingAt(m: Machine, rip: bigint): boolean {
  let b: Uint8Array;
  try {
    b = m.readBytes(rip, 6);
  } catch {
    return false;
  }
  let i = 0;
  while (i < 4 && (PREFIXES.has(b[i]!) || (m.bitness === 64 && b[i]! >= 0x40 && b[i]! <= 0x4f))) i++;
  const op = b[i]!;
  if (op === 0xcf) return true; // iret / iretq
  if (op !== 0x0f) return false;
  const op2 = b[i + 1]!;
  if (op2 === 0xa2 || op2 === 0x30 || op2 === 0x22) return true; // cpuid, wrmsr, mov to CR
  const reg = (b[i + 2]! >> 3) & 7;
  return op2 === 0x01 && (reg === 3 || reg === 7); // lidt, invlpg
}

/** Every byte string a view can produce (the sets are tiny: a byte changes at most twice in a patch). */
function combinations(view: readonly (readonly number[])[]): number[][] {
  let out: number[][] = [[]];
  for (const values of view) out = out.flatMap((prefix) => values.map((v) => [...prefix, v]));
  return out;
}

const same = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/** Where an instruction of the site's forms sends the CPU: a 5-byte nop falls through, `call`/`jmp rel32` go to their target. */
function landing(bytes: readonly number[], site: bigint): { readonly rip: bigint; readonly pushes: boolean } | undefined {
  const next = site + BigInt(bytes.length);
  const rel = (): bigint => BigInt(new DataView(Uint8Array.from(bytes).buffer).getInt32(1, true));
  if (bytes[0] === 0xe8 && bytes.length === 5) return { rip: next + rel(), pushes: true };
  if (bytes[0] === 0xe9 && bytes.length === 5) return { rip: next + rel(), pushes: false };
  if (bytes[0] === 0x0f && bytes[1] === 0x1f) return { rip: next, pushes: false };
  return undefined;
}

/**
 * What a CPU may fetch at the site, judged by the SDM's rule (the `stale-mix` invariant), and
 * where a CPU that executed the site went (`neither-old-nor-new`). The machine itself decodes
 * memory's current bytes, so it cannot show a CPU that still holds the old first byte while
 * the tail has changed; this monitor follows what each CPU is entitled to see instead.
 */
export function codeViewMonitor(config: CodeViewConfig, cpus: number): Monitor<ViewState> {
  const len = config.oldBytes.length;
  const read = (m: Machine): number[] => Array.from(m.readBytes(config.site, len));
  const exact = (bytes: readonly number[]): number[][] => bytes.map((b) => [b]);
  const judgeFetch = (m: Machine, cpu: number, view: readonly (readonly number[])[]): Finding[] => {
    const out: Finding[] = [];
    // First the classic stale mix (a first byte the CPU may still hold, memory's tail), then every other.
    const now = read(m);
    const candidates = [...view[0]!.map((b0) => [b0, ...now.slice(1)]), ...combinations(view)];
    for (const bytes of candidates) {
      if (bytes[0] === INT3) {
        if (!config.patching(m) && view[0]!.length > 1) {
          out.push({ invariant: PATCH_INVARIANTS.staleMix, detail: `CPU ${cpu} has not serialized since the int3 was replaced and no patch is in progress: it may still fetch the int3 at ${config.symbolize(config.site)}, which no handler claims any more (memory has ${hex(now)})` });
          break;
        }
        continue;
      }
      if (same(bytes, config.oldBytes) || same(bytes, config.newBytes)) continue;
      const changed = view.map((v, i) => (v.length > 1 ? i : -1)).filter((i) => i >= 0);
      out.push({ invariant: PATCH_INVARIANTS.staleMix, detail: `CPU ${cpu} has not serialized since byte${changed.length === 1 ? '' : 's'} ${changed.join(', ')} of ${config.symbolize(config.site)} changed: it may fetch ${hex(bytes)}, neither the old ${hex(config.oldBytes)} nor the new ${hex(config.newBytes)} (memory has ${hex(now)})` });
      break;
    }
    return out;
  };
  const judgeLanding = (m: Machine, p: PendingStep): Finding[] => {
    const c = m.cpus[p.cpu]!;
    if (!p.fetchesSite || p.bytes[0] === INT3 || c.instructions === p.instructions || c.status !== 'running') return [];
    const w = BigInt(m.bitness / 8);
    const ok = [config.oldBytes, config.newBytes].some((form) => {
      const to = landing(form, config.site);
      if (to?.rip !== c.rip) return false;
      if (!to.pushes) return c.rsp === p.rsp;
      return c.rsp === p.rsp - w && m.read(c.rsp, m.bitness === 64 ? 8 : 4) === config.site + BigInt(len);
    });
    if (ok) return [];
    return [{ invariant: PATCH_INVARIANTS.neither, detail: `CPU ${c.id} executed ${hex(p.bytes)} at ${config.symbolize(config.site)} and went to ${config.symbolize(c.rip)}: neither the old ${hex(config.oldBytes)} nor the new ${hex(config.newBytes)} goes there` }];
  };
  return {
    names: [PATCH_INVARIANTS.staleMix, PATCH_INVARIANTS.neither],
    reads: [],
    init: (m) => ({ views: Array.from({ length: cpus }, () => exact(read(m))), pending: undefined }),
    before(m, choice: Choice, s) {
      if (choice.kind !== 'step') return { ...s, pending: undefined };
      const c = m.cpus[choice.cpu]!;
      const delivers = (c.nmiPending && !c.nmiBlocked) || (c.irqPending && c.interruptsEnabled);
      const pending: PendingStep = {
        cpu: choice.cpu,
        bytes: read(m),
        fetchesSite: !delivers && c.status === 'running' && c.rip === config.site,
        serializing: !delivers && c.status === 'running' && serializingAt(m, c.rip),
        instructions: c.instructions,
        running: c.status === 'running',
        rsp: c.rsp,
      };
      return { ...s, pending };
    },
    after(m, _choice, s) {
      const p = s.pending;
      if (p === undefined) return { state: s };
      const findings = p.fetchesSite ? judgeFetch(m, p.cpu, s.views[p.cpu]!) : [];
      findings.push(...judgeLanding(m, p));
      const now = read(m);
      const serialized = p.serializing || ((p.running || m.cpus[p.cpu]!.status === 'running') && m.cpus[p.cpu]!.instructions === p.instructions);
      const views = s.views.map((view, cpu) => {
        // A CPU's own writes are coherent for itself at once.
        if (cpu === p.cpu) return serialized ? exact(now) : view.map((values, i) => (now[i] === p.bytes[i] ? values : [now[i]!]));
        return view.map((values, i) => (now[i] === p.bytes[i] || values.includes(now[i]!) ? values : [...values, now[i]!]));
      });
      return { state: { views, pending: undefined }, findings };
    },
    key: (s) => s.views.map((v) => v.map((values) => values.join('.')).join(',')).join('/'),
  };
}

/** True when every CPU's view of the site is memory's bytes (no CPU can see anything stale). */
export function viewsExact(s: ViewState): boolean {
  return s.views.every((v) => v.every((values) => values.length === 1));
}
