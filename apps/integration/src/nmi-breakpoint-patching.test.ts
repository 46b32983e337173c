// The article's link between text patching and the NMI fix: an ftrace site on a function
// the NMI handler calls (the kernel's nmi_traced_fn, called from perf_event_nmi_handler) is
// patched with the breakpoint method while NMIs arrive. An NMI that runs the site while it
// holds int3 takes #BP inside the NMI handler; the #BP handler returns with iret, and that
// iret unblocks NMIs while the first NMI still runs. Under the pre-3.3 x86_64 entry
// (`naive`) the next NMI starts again at the top of the NMI IST stack, on the first one's
// frame; the 3.3 entry (`nested`) and i386 (its own stack, the nmi_state latch) survive.
// One kernel: the patcher loads into the booted NMI kernel, its #BP hook joins that
// kernel's int3 chain, its IPI handlers take the kernel's IPI vectors.
import { runNmiScenario } from '@kernsim/kernel';
import type { Kernel, NmiEntry, ScenarioResult, ScenarioSpec } from '@kernsim/kernel';
import { latchEntry } from '@kernsim/nmi-i386';
import { naiveEntry, nestedEntry } from '@kernsim/nmi-x86_64';
import { breakpointStates, hex, installPatcher } from '@kernsim/text-patching';
import type { Patcher } from '@kernsim/text-patching';
import { describe, expect, it } from 'vitest';

interface Outcome {
  readonly result: ScenarioResult;
  readonly patcher: Patcher;
  /** Distinct byte states of the site, in the order memory held them. */
  readonly states: readonly string[];
  /** NMIs raised on CPU 1 right after a #BP's iret returned into nmi_traced_fn. */
  readonly windowNmis: number;
}

// Two kernel-mode CPUs: CPU 0 patches, CPU 1 idles with interrupts on (it must answer the
// sync IPIs) and takes sampler NMIs: a steady stream, one when the site first holds int3,
// and one the moment the #BP handler has returned into nmi_traced_fn.
const SPEC: ScenarioSpec = {
  id: 'storm',
  title: 'Breakpoint patching of nmi_traced_fn while NMIs arrive',
  cpus: [
    { program: { kind: 'kernel-loop' }, bufferSynced: true, lockedUp: false },
    { program: { kind: 'kernel-loop' }, bufferSynced: true, lockedUp: false },
  ],
  sleepers: [],
  injections: [{ cpu: 1, source: 'sampler', arrival: { kind: 'at-step', step: 6000 } }],
  storm: { cpus: [1], period: 97, count: 30, start: 10 },
  kprobes: [],
  budget: 60_000,
};

function patchWhileNmisArrive(entry: NmiEntry): Outcome {
  let patcher: Patcher | undefined;
  let site = 0n;
  let firstFired = false;
  let windowNmis = 0;
  const states: string[] = [];
  const setup = (k: Kernel): void => {
    site = k.symbol('nmi_traced_fn_site');
    patcher = installPatcher(k, { sites: [{ address: site }] });
    patcher.startPatching(0);
    patcher.idle(1);
    states.push(hex(k.machine.readBytes(site, 5)));
  };
  const probe = (k: Kernel, cpu: number): 'sampler' | undefined => {
    const now = hex(k.machine.readBytes(site, 5));
    if (states[states.length - 1] !== now) states.push(now);
    const siteCc = now.startsWith('cc');
    if (cpu !== 1 || !siteCc) return undefined;
    if (!firstFired) {
      firstFired = true;
      return 'sampler';
    }
    // Back from the #BP handler (skip mode resumes after the site) with the int3 still there.
    if (k.machine.cpus[1]!.rip === site + 5n && windowNmis === 0) {
      windowNmis++;
      return 'sampler';
    }
    return undefined;
  };
  const result = runNmiScenario(entry, 'storm', { spec: SPEC, setup, probe });
  if (patcher === undefined) throw new Error('setup did not run');
  return { result, patcher, states, windowNmis };
}

const story = (r: ScenarioResult): string => r.events.map((e) => `${String(e.step)} cpu${String(e.cpu)} ${e.kind}: ${e.text}`).join('\n');

/** The index of the first event at or after `from` that matches; -1 when none. */
function find(r: ScenarioResult, from: number, match: (e: ScenarioResult['events'][number]) => boolean): number {
  for (let i = Math.max(0, from); i < r.events.length; i++) if (match(r.events[i]!)) return i;
  return -1;
}

// The #BP is the patch's int3 at nmi_traced_fn's site, taken inside the NMI handler.
const bpInNmi = (e: ScenarioResult['events'][number]): boolean =>
  e.cpu === 1 && e.kind === 'delivery' && /#BP.*inside NMI context/.test(e.text) && e.text.includes('nmi_traced_fn_site');
const unblocking = (e: ScenarioResult['events'][number]): boolean => e.cpu === 1 && e.kind === 'iret' && e.text.includes('NMIs unblocked inside NMI context');

describe('breakpoint patching of a function the NMI handler calls', () => {
  it("x86_64 naive entry: the #BP iret inside the NMI opens the window and the next NMI overwrites the first one's frame", () => {
    const o = patchWhileNmisArrive(naiveEntry());
    const r = o.result;
    expect(o.windowNmis).toBe(1);
    expect(r.crashed).toBe(true);
    // #BP delivered inside NMI context, its iret unblocks NMIs, the next NMI is delivered
    // while the first is active and lands on its frame, and a return goes astray.
    const bp = find(r, 0, bpInNmi);
    expect(bp, story(r)).toBeGreaterThanOrEqual(0);
    const unblock = find(r, bp, unblocking);
    expect(unblock, story(r)).toBeGreaterThan(bp);
    const second = find(r, unblock, (e) => e.cpu === 1 && e.kind === 'delivery' && /NMI #\d+ delivered.*nesting 2/.test(e.text));
    expect(second, story(r)).toBeGreaterThan(unblock);
    const overwrite = find(r, second, (e) => e.cpu === 1 && e.kind === 'overwrite');
    expect(overwrite, story(r)).toBeGreaterThanOrEqual(second);
    expect(r.crashReason).toMatch(/corrupted return|panic/);
  });

  for (const [name, entry] of [
    ['x86_64 nested entry (3.3)', nestedEntry()],
    ['i386 nmi_state latch', latchEntry()],
  ] as const) {
    it(`${name}: survives the same NMI in the window, completes the patch and accounts for every NMI`, () => {
      const o = patchWhileNmisArrive(entry);
      const r = o.result;
      expect(r.crashed, `${r.crashReason ?? ''}\n${story(r)}`).toBe(false);
      expect(o.windowNmis).toBe(1);
      // The window was opened the same way ...
      const bp = find(r, 0, bpInNmi);
      expect(bp, story(r)).toBeGreaterThanOrEqual(0);
      expect(find(r, bp, unblocking), story(r)).toBeGreaterThan(bp);
      // ... and every NMI raised was handled (merged ones by a repeat of the handler).
      expect(r.accountedFor).toBe(true);
      expect(r.nmis.perCpu[1]!.raised).toBeGreaterThanOrEqual(30);
      expect(r.nmis.perCpu[1]!.handled).toBeGreaterThan(0);
      // The patch went through the article's states and is complete: NMIs now reach the tracer.
      const state = o.patcher.state();
      expect(state.done).toBe(true);
      expect(state.syncRounds).toBe(3);
      expect(state.bpHits).toBeGreaterThan(0);
      const site = o.patcher.sites[0]!;
      expect(o.states).toEqual(breakpointStates(site.oldBytes, site.newBytes).map(hex));
      expect(state.traceCalls).toBeGreaterThan(0);
    });
  }
});
