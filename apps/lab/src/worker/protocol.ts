import type { NmiConfig } from '../nmi/config.js';
import type { RunSummary } from '../nmi/summary.js';
import type { MachineView } from '../nmi/view.js';
import type { MemcgData, MemcgParams } from '../memcg/compute.js';
import type { PatchData, PatchParams } from '../patch/compute.js';
import type { CostCurveRow } from '@kernsim/text-patching';
import type { StatsData } from '../stats/compute.js';

/** What the page asks the simulation worker, and what each request answers. */
export interface Requests {
  'nmi-load': { readonly args: NmiConfig; readonly reply: { readonly summary: RunSummary } };
  'nmi-counterexample': { readonly args: { readonly name: string; readonly text: string }; readonly reply: { readonly summary: RunSummary } };
  'nmi-seek': { readonly args: { readonly step: number }; readonly reply: MachineView };
  patch: { readonly args: PatchParams; readonly reply: PatchData };
  'patch-curve': { readonly args: { readonly maxCpus: number }; readonly reply: readonly CostCurveRow[] };
  memcg: { readonly args: MemcgParams; readonly reply: MemcgData };
  stats: { readonly args: { readonly name: string; readonly text: string }; readonly reply: StatsData };
}

export type RequestKind = keyof Requests;

export interface RequestMessage<K extends RequestKind = RequestKind> {
  readonly id: number;
  readonly kind: K;
  readonly args: Requests[K]['args'];
}

export type ReplyMessage = { readonly id: number; readonly ok: true; readonly value: unknown } | { readonly id: number; readonly ok: false; readonly error: string };
