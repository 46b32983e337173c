import { disassemble } from '@kernsim/cpu-core';
import { breakpointStates, costCurve, hex, runPatch } from '@kernsim/text-patching';
import type { CostCurveRow, PatchMethod, PatchResult, PatchSite, PatchUser, SiteObservation } from '@kernsim/text-patching';

export const PATCH_METHODS: readonly PatchMethod[] = ['breakpoint', 'stop-machine', 'direct'];
export const PATCH_USERS: readonly PatchUser[] = ['ftrace', 'static-key', 'kprobe'];

export interface PatchParams {
  readonly method: PatchMethod;
  readonly user: PatchUser;
  readonly cpus: number;
  readonly sites: number;
}

/** The figures of one patch run the charts compare (the library's own fields). */
export type PatchRunFigures = { readonly method: PatchMethod } & Pick<PatchResult, 'completed' | 'patchCycles' | 'stallTotal' | 'stallWorst' | 'ipisSent' | 'syncRounds' | 'int3OtherCpus' | 'gpFaults'>;

export interface PatchData {
  readonly params: PatchParams;
  readonly run: PatchRunFigures;
  /** Where the #GP struck (direct method), symbolized. */
  readonly gpAt: string | undefined;
  readonly sites: readonly { readonly fn: string; readonly address: string; readonly oldBytes: string; readonly newBytes: string; readonly finalBytes: string }[];
  /** Site 0 as CPU 0 wrote it: at the start, each sync round, the end — disassembled from simulated memory. */
  readonly listings: readonly { readonly when: string; readonly lines: readonly string[] }[];
  /** The byte states CPU 1 executed at site 0, in order. */
  readonly observed: readonly string[];
  /** Every site, state by state, and what each CPU executed there (the library's `observeSites`). */
  readonly perSite: readonly SiteStates[];
  readonly perCpu: readonly { readonly cpu: number; readonly work: number; readonly stall: number; readonly int3Hits: number; readonly ipisTaken: number; readonly traced: number; readonly status: string }[];
  /** The same patch by each method on the same machine, for the comparison charts. */
  readonly methods: readonly PatchRunFigures[];
}

/** One site's byte states (the breakpoint method's four, then any other state seen) and each CPU's way through them. */
export interface SiteStates {
  readonly fn: string;
  /** Whether CPU 0 had written the state when a sync round began, and how many CPUs executed it. */
  readonly states: readonly { readonly bytes: string; readonly name: string; readonly atSync: boolean; readonly ranBy: number }[];
  /** Per CPU, the states it executed, in order (indices into `states`). */
  readonly byCpu: readonly (readonly number[])[];
}

function figures(method: PatchMethod, r: PatchResult): PatchRunFigures {
  return {
    method,
    completed: r.completed,
    patchCycles: r.patchCycles,
    stallTotal: r.stallTotal,
    stallWorst: r.stallWorst,
    ipisSent: r.ipisSent,
    syncRounds: r.syncRounds,
    int3OtherCpus: r.int3OtherCpus,
    gpFaults: r.gpFaults,
  };
}

/** Runs the chosen patch on the simulated machine (with a view of every step of site 0), then the other methods for comparison. */
export function computePatch(params: PatchParams): PatchData {
  const cpus = Math.max(2, Math.min(64, Math.floor(params.cpus)));
  const sites = Math.max(1, Math.min(16, Math.floor(params.sites)));
  const p = { ...params, cpus, sites };
  const r = runPatch({ method: p.method, user: p.user, cpus, sites, observe: true, observeSites: true });
  const symbols = r.machine.symbols;
  const methods = PATCH_METHODS.map((m) => (m === p.method ? figures(m, r) : figures(m, runPatch({ method: m, user: p.user, cpus, sites }))));
  return {
    params: p,
    run: figures(p.method, r),
    gpAt: r.gpAt === undefined ? undefined : (symbols.symbolize(r.gpAt) ?? `0x${r.gpAt.toString(16)}`),
    sites: r.sites.map((s, i) => ({ fn: s.function, address: s.address.toString(16), oldBytes: hex(s.oldBytes), newBytes: hex(s.newBytes), finalBytes: hex(r.finalBytes[i] ?? []) })),
    listings: r.listings.map((l) => ({
      when: l.when,
      lines: disassemble(l.bytes, { origin: l.address, bitness: r.machine.bitness, symbols }).map((d) => `${d.address.toString(16)}  ${d.bytes.padEnd(24)} ${d.text}`),
    })),
    observed: r.observed.map(hex),
    perSite: (r.siteObservations ?? []).map((o) => siteStates(r.sites[o.site]!, o)),
    perCpu: r.perCpu.map((c) => ({ cpu: c.cpu, work: c.work, stall: c.stall, int3Hits: c.int3Hits, ipisTaken: c.ipisTaken, traced: c.traced, status: c.status })),
    methods,
  };
}

const STATE_NAMES = ['old instruction', 'int3 + old tail', 'int3 + new tail', 'new instruction'] as const;

function siteStates(site: PatchSite, o: SiteObservation): SiteStates {
  const known = breakpointStates([...site.oldBytes], [...site.newBytes]).map(hex);
  const syncs = new Set(o.atSyncs.map(hex));
  const ran = o.byCpu.map((seen) => seen.map(hex));
  const all = [...known, ...[...new Set(ran.flat())].filter((b) => !known.includes(b))];
  return {
    fn: site.function,
    states: all.map((bytes, i) => ({ bytes, name: STATE_NAMES[i] ?? 'torn: half old, half new', atSync: syncs.has(bytes), ranBy: ran.filter((seen) => seen.includes(bytes)).length })),
    byCpu: ran.map((seen) => seen.map((b) => all.indexOf(b))),
  };
}

/** CPU counts the lab's curve offers as its largest (each doubling about doubles the time it takes). */
export const CURVE_MAX_CPUS = [16, 32, 64, 128] as const;

/** stop_machine's and the breakpoint method's cost at 2, 4, … `maxCpus` CPUs (text-patching's `costCurve`, modelled timing). */
export function computeCurve(maxCpus: number): CostCurveRow[] {
  const largest = CURVE_MAX_CPUS.find((n) => n === maxCpus);
  if (largest === undefined) throw new Error(`the curve goes to ${CURVE_MAX_CPUS.join(', ')} CPUs, not ${maxCpus}`);
  const counts: number[] = [];
  for (let n = 2; n <= largest; n *= 2) counts.push(n);
  return costCurve({ cpuCounts: counts });
}
