import { SCENARIO_IDS } from '@kernsim/kernel';
import type { ScenarioId } from '@kernsim/kernel';
import { SERIES_CASES } from '@kernsim/nmi-x86_64';
import type { SeriesPart } from '@kernsim/nmi-x86_64';

export type ArchName = 'x86_64' | 'i386';
/** naive = before 3.3; nested = the 3.3 entry (on i386: the nmi_state latch). */
export type EntryKind = 'naive' | 'nested';
export type NmiSource = 'watchdog' | 'sampler';

/** An NMI the reader injected: raised at the CPU that executes machine step `step`, just before it does. */
export interface Injection {
  readonly step: number;
  readonly source: NmiSource;
}

/** Everything that decides a run: the same config always gives the same run, step for step. */
export interface NmiConfig {
  readonly scenario: ScenarioId;
  readonly arch: ArchName;
  readonly entry: EntryKind;
  /** x86_64 nested entry only: one part of the 3.3 series left out. */
  readonly without: SeriesPart | undefined;
  /** Instructions after the first exception's iret (or first NMI) at which the scenario's second NMI arrives; undefined: the scenario's own. */
  readonly delay: number | undefined;
  readonly injections: readonly Injection[];
}

export const SERIES_PARTS: readonly SeriesPart[] = SERIES_CASES.map((c) => c.part);
export { SCENARIO_IDS };

export const DEFAULT_CONFIG: NmiConfig = { scenario: 'watchdog-dump', arch: 'x86_64', entry: 'nested', without: undefined, delay: undefined, injections: [] };

export function entryLabel(c: Pick<NmiConfig, 'arch' | 'entry' | 'without'>): string {
  if (c.arch === 'i386') return c.entry === 'nested' ? 'i386 3.3 (nmi_state latch)' : 'i386 without the latch';
  if (c.without !== undefined) return `x86_64 3.3 without ${c.without}`;
  return c.entry === 'nested' ? 'x86_64 3.3 (nested-NMI entry)' : 'x86_64 before 3.3 (naive)';
}

/** Fixes combinations the machine cannot run (i386 has no IST, so no debug-stack; `without` needs the nested x86_64 entry). */
export function normalizeConfig(c: NmiConfig): NmiConfig {
  const arch = c.scenario === 'debug-stack' ? 'x86_64' : c.arch;
  const without = arch === 'x86_64' && c.entry === 'nested' ? c.without : undefined;
  const injections = [...c.injections].filter((i) => Number.isInteger(i.step) && i.step >= 0).sort((a, b) => a.step - b.step);
  return { ...c, arch, without, injections };
}

function pick<T extends string>(value: string | null, allowed: readonly T[], fallback: T): T {
  return allowed.find((a) => a === value) ?? fallback;
}

/** The run and the step shown, as URL search parameters (shareable links). */
export function configToParams(c: NmiConfig, step: number): URLSearchParams {
  const p = new URLSearchParams({ scenario: c.scenario, arch: c.arch, entry: c.entry });
  if (c.without !== undefined) p.set('without', c.without);
  if (c.delay !== undefined) p.set('delay', String(c.delay));
  if (c.injections.length > 0) p.set('inject', c.injections.map((i) => `${i.step}${i.source === 'sampler' ? 's' : ''}`).join(','));
  p.set('step', String(step));
  return p;
}

/** Reads what `configToParams` wrote; anything unknown falls back to the defaults (no step: the end of the run). */
export function paramsToConfig(p: URLSearchParams): { config: NmiConfig; step: number | undefined } {
  const scenario = pick(p.get('scenario'), SCENARIO_IDS, DEFAULT_CONFIG.scenario);
  const arch = pick<ArchName>(p.get('arch'), ['x86_64', 'i386'], DEFAULT_CONFIG.arch);
  const entry = pick<EntryKind>(p.get('entry'), ['naive', 'nested'], DEFAULT_CONFIG.entry);
  const w = p.get('without');
  const without = SERIES_PARTS.find((x) => x === w);
  const injections: Injection[] = [];
  for (const part of (p.get('inject') ?? '').split(',')) {
    const m = /^(\d{1,7})(s?)$/.exec(part);
    if (m) injections.push({ step: Number(m[1]), source: m[2] === 's' ? 'sampler' : 'watchdog' });
  }
  const delayText = p.get('delay') ?? '';
  const delay = /^\d{1,6}$/.test(delayText) ? Number(delayText) : undefined;
  const stepText = p.get('step') ?? '';
  const step = /^\d{1,7}$/.test(stepText) ? Number(stepText) : undefined;
  return { config: normalizeConfig({ scenario, arch, entry, without, delay, injections }), step };
}
