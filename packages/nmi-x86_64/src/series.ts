import { runNmiScenario, scenarioSpec } from '@kernsim/kernel';
import type { Kernel, RunOptions, ScenarioId, ScenarioResult, ScenarioSpec } from '@kernsim/kernel';
import { NmiX86Error } from './errors.js';
import { nestedEntry } from './nested-entry.js';
import type { NestedEntryOptions } from './nested-entry.js';

/** The parts of the 3.3 series modelled in the x86_64 entry and do_nmi. */
export type SeriesPart = keyof NestedEntryOptions;

export interface SeriesCase {
  readonly part: SeriesPart;
  /** What the part is, in 3.3's words where it has them. */
  readonly title: string;
  /** The situation that needs it. */
  readonly situation: string;
  readonly scenario: ScenarioId;
}

/** One CPU running getpid, its page table lacking the sampler's vmalloc buffer. */
function oneCpu(id: ScenarioId, extra: Partial<ScenarioSpec>): ScenarioSpec {
  const base = scenarioSpec(id);
  return { ...base, cpus: [{ ...base.cpus[0]!, bufferSynced: id !== 'perf-vmalloc' }], ...extra };
}

const first = { cpu: 0, source: 'sampler', arrival: { kind: 'at-step', step: 40 } } as const;
const afterIret = { cpu: 0, source: 'sampler', arrival: { kind: 'after-exception-iret', delay: 3 } } as const;
/** The second #BP handler of the run (do_int3's k-th execution), on the debug IST stack. */
const inBreakpoint = (occurrence: number) => ({ cpu: 0, source: 'sampler', arrival: { kind: 'at-symbol', symbol: 'do_int3', occurrence } }) as const;

/** Raises one sampler NMI the first time the CPU is about to execute `symbol`. */
function atSymbolOnce(symbol: string): RunOptions['probe'] {
  let done = false;
  return (k: Kernel, cpu: number) => {
    if (done || cpu !== 0 || k.machine.cpus[0]!.rip !== k.symbol(symbol)) return undefined;
    done = true;
    return 'sampler';
  };
}

interface CaseDef extends SeriesCase {
  spec(): ScenarioSpec;
  readonly probe?: () => RunOptions['probe'];
}

const CASES: readonly CaseDef[] = [
  {
    part: 'executingVariable',
    title: 'the on-stack "NMI executing" variable',
    situation: 'a second NMI arrives while the first NMI\'s handler is inside a #BP handler (a kprobe) on the debug IST stack, where the stack check cannot see it',
    scenario: 'kprobe',
    spec: () => oneCpu('kprobe', { kprobes: ['perf_sample', 'nmi_traced_fn'], injections: [first, inBreakpoint(2)] }),
  },
  {
    part: 'stackCheck',
    title: 'the check of the interrupted stack pointer against this CPU\'s NMI stack',
    situation: 'a second NMI arrives after the first cleared the variable but before its iretq',
    scenario: 'perf-vmalloc',
    spec: () => oneCpu('perf-vmalloc', { injections: [first] }),
    probe: () => atSymbolOnce('nmi_exit_jmp'),
  },
  {
    part: 'repeatGuard',
    title: 'leaving a first NMI alone while it is in repeat_nmi',
    situation: 'a third NMI arrives while the first is copying the saved frame back in repeat_nmi',
    scenario: 'perf-vmalloc',
    spec: () => oneCpu('perf-vmalloc', { injections: [first, afterIret] }),
    probe: () => atSymbolOnce('repeat_nmi_copy_rflags'),
  },
  {
    part: 'rearmInRepeat',
    title: 'repeat_nmi setting the variable again',
    situation: 'the repeated handler hits a kprobe, and another NMI arrives inside that #BP handler on the debug stack',
    scenario: 'kprobe',
    spec: () => oneCpu('kprobe', { injections: [first, afterIret, inBreakpoint(2)] }),
  },
  {
    part: 'restoreCopiedFrame',
    title: 'the third copy of the frame (saved), copied back by repeat_nmi',
    situation: 'a nested NMI redirected the first to repeat_nmi; the repeated handler must return where the first NMI came from',
    scenario: 'perf-vmalloc',
    spec: () => oneCpu('perf-vmalloc', { injections: [first, afterIret] }),
  },
  {
    part: 'debugStackFix',
    title: 'debug_stack_set_zero / debug_stack_reset (nmi_idt_table without IST for #DB/#BP)',
    situation: 'an NMI interrupts a #BP handler on the debug stack, and the NMI handler hits a kprobe',
    scenario: 'debug-stack',
    spec: () => scenarioSpec('debug-stack'),
  },
];

/** Every modelled part of the series with the situation that needs it. */
export const SERIES_CASES: readonly SeriesCase[] = CASES.map(({ part, title, situation, scenario }) => ({ part, title, situation, scenario }));

/**
 * Runs the situation that needs one part of the 3.3 series under the 3.3 entry, with
 * that part (`without: false`) or with everything but that part (`without: true`).
 */
export function runSeriesCase(part: SeriesPart, options: { readonly without?: boolean } & Omit<RunOptions, 'spec' | 'probe'> = {}): ScenarioResult {
  const c = CASES.find((x) => x.part === part);
  if (!c) throw new NmiX86Error('KERNSIM_NMI64_BAD_SCENARIO', `unknown part of the 3.3 series ${part}; expected one of ${CASES.map((x) => x.part).join(', ')}`);
  const entry = nestedEntry(options.without ? { [part]: false } : {});
  const probe = c.probe?.();
  return runNmiScenario(entry, c.scenario, { ...options, spec: c.spec(), ...(probe ? { probe } : {}) });
}
