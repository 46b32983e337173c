import { explore } from '@kernsim/cpu-core/explore';
import type { ExploreResult } from '@kernsim/cpu-core/explore';
import { bootKernel, scenarioSpec } from '@kernsim/kernel';
import type { Kernel } from '@kernsim/kernel';
import { entryByName } from './entries.js';
import type { EntryName } from './entries.js';

export interface WindowExploreOptions {
  /** Longest schedule the explorer considers (steps plus injected NMIs). */
  readonly maxDepth?: number;
  /** NMIs the explorer may inject. */
  readonly nmiBudget?: number;
  readonly maxStates?: number;
}

export interface WindowExploreResult extends ExploreResult {
  readonly entry: EntryName;
  /** Where the search starts: the first NMI's handler, just after its #PF returned. */
  readonly start: string;
}

/**
 * Hands the article's window to cpu-core's explorer: CPU 0 is inside the sampler's NMI
 * handler right after the vmalloc #PF returned (NMIs unblocked). The explorer tries
 * every interleaving of further NMIs with the remaining instructions; the invariant is
 * that the frame the NMI will return through still leads back to the interrupted
 * context (for 3.3: the copied frame, which may also point at repeat_nmi; it is not
 * judged while the nested path is rewriting it).
 */
export function exploreNmiWindow(entry: EntryName, options: WindowExploreOptions = {}): WindowExploreResult {
  const base = scenarioSpec('perf-vmalloc');
  const k = bootKernel({ arch: 'x86_64', entry: entryByName(entry), cpus: [base.cpus[0]!] });
  const m = k.machine;
  const cpu = m.cpus[0]!;
  m.run({ steps: 40 });
  const interrupted = { rip: cpu.rip, rsp: cpu.rsp };
  k.raisePmuNmi(0, 'sampler');
  m.step(0);
  // The delivery happened on that step: what the CPU was doing is in the frame it pushed.
  const top = k.nmiStackTop(0);
  interrupted.rip = m.read(top - 40n, 8);
  interrupted.rsp = m.read(top - 16n, 8);
  const store = k.symbol('perf_output_store');
  for (let i = 0; i < 5000 && !(cpu.rip === store && !cpu.nmiBlocked); i++) m.step(0);
  const exitFrame = entry === 'naive' ? top - 40n : top - 136n;
  const repeat = k.image.symbols.get('repeat_nmi');
  // 3.3's nested path rewrites the copied frame one push at a time: judge it before and after.
  const fixFrom = k.image.symbols.get('nested_nmi');
  const fixTo = k.image.symbols.get('nested_nmi_iret');
  const intact = (mm: typeof m): string | undefined => {
    const c = mm.cpus[0]!;
    if (c.rsp >= top || c.rsp < top - 4096n) return undefined;
    if (fixFrom !== undefined && fixTo !== undefined && c.rip >= fixFrom && c.rip < fixTo) return undefined;
    const rip = mm.read(exitFrame, 8);
    const rsp = mm.read(exitFrame + 24n, 8);
    if (rip === interrupted.rip && rsp === interrupted.rsp) return undefined;
    if (repeat !== undefined && rip === repeat) return undefined;
    return `the frame the first NMI will return through (at 0x${exitFrame.toString(16)}) now says RIP ${symbolize(k, rip)} RSP 0x${rsp.toString(16)}, not ${symbolize(k, interrupted.rip)} RSP 0x${interrupted.rsp.toString(16)}`;
  };
  const done = (mm: typeof m): boolean => {
    const c = mm.cpus[0]!;
    return c.rsp >= top || c.rsp < top - 4096n;
  };
  const result = explore(m, {
    maxDepth: options.maxDepth ?? 24,
    nmiBudget: options.nmiBudget ?? 1,
    nmiCpus: [0],
    invariants: [intact],
    done,
    fatalSymbols: ['panic_halt'],
    maxStates: options.maxStates ?? 60_000,
  });
  return { ...result, entry, start: `CPU 0 at ${symbolize(k, cpu.rip)} inside the sampler's NMI, after the #PF's iret` };
}

function symbolize(k: Kernel, a: bigint): string {
  return k.symbols.symbolize(a) ?? `0x${a.toString(16)}`;
}
