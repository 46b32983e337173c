import { describe, expect, it } from 'vitest';
import { layoutOf, nmiAccountingErrors, scenarioSpec } from '@kernsim/kernel';
import type { Kernel, ScenarioResult, ScenarioSpec } from '@kernsim/kernel';
import { runScenario } from './scenarios.js';

const landmarks = (r: ScenarioResult): string[] => r.events.filter((e) => e.kind === 'landmark').map((e) => e.text);

/**
 * The article's chain of events, in order, in the trace: an exception inside the NMI
 * handler, its iret lifting the NMI block, a second NMI delivered on the same CPU
 * while the first is active, its frame landing on the first one's (same IST top), then
 * the crash.
 */
function articleChain(r: ScenarioResult, exception: '#PF' | '#BP'): number[] {
  const ev = r.events;
  const exc = ev.findIndex((e) => e.kind === 'delivery' && e.text.startsWith(`${exception} delivered inside NMI context`));
  const cpu = ev[exc]?.cpu;
  const unblock = ev.findIndex((e, i) => i > exc && e.cpu === cpu && e.kind === 'iret' && e.text.includes('NMIs unblocked inside NMI context'));
  const second = ev.findIndex((e, i) => i > unblock && e.cpu === cpu && e.kind === 'delivery' && /^NMI #\d+ delivered.*nesting 2$/.test(e.text));
  const overwrite = ev.findIndex((e, i) => i >= second && e.cpu === cpu && e.kind === 'overwrite');
  const crash = ev.findIndex((e, i) => i > overwrite && (e.kind === 'corrupted-return' || e.kind === 'panic'));
  return [exc, unblock, second, overwrite, crash];
}

function expectArticleChain(r: ScenarioResult, exception: '#PF' | '#BP'): void {
  const chain = articleChain(r, exception);
  expect(chain.every((i) => i >= 0), `chain ${chain.join(',')}`).toBe(true);
  expect([...chain].sort((x, y) => x - y)).toEqual(chain);
}

describe('the four scenarios under the pre-3.3 entry (naive)', () => {
  it('watchdog dump: a nested NMI lands on the first one\'s stack, the dump is cut short and the kernel dies', () => {
    const r = runScenario('watchdog-dump', { entry: 'naive' });
    expect(r.crashed).toBe(true);
    expect(r.dump?.complete).toBe(false);
    expect(r.dump?.printedTasks.length).toBeLessThan(r.dump?.expectedTasks.length ?? 0);
    // The article's reason: the #PF's iret unblocked NMIs and the second NMI restarted the IST stack.
    expect(r.events.some((e) => e.kind === 'delivery' && e.text.startsWith('#PF delivered inside NMI context'))).toBe(true);
    expect(r.events.some((e) => e.kind === 'overwrite')).toBe(true);
    expectArticleChain(r, '#PF');
    // The dump stops part-way: some tasks were printed, the footer never was.
    expect(r.dump?.printedTasks.length).toBeGreaterThan(0);
    expect(r.console).not.toContain('-- end of task list --');
    expect(r.deepestNesting).toBe(2);
    expect(r.deepestHandlerNesting).toBe(2);
  });

  it('perf sampler first touching its vmalloc buffer: corrupted return', () => {
    const r = runScenario('perf-vmalloc', { entry: 'naive' });
    expect(r.crashed).toBe(true);
    expect(r.crashReason).toMatch(/corrupted return/);
    expect(r.corruptedReturns[0]?.overwrittenBy.length).toBeGreaterThan(0);
    expect(r.pageFaults).toBeGreaterThan(0);
    expectArticleChain(r, '#PF');
  });

  it('kprobe in a function the NMI handler calls: corrupted return', () => {
    const r = runScenario('kprobe', { entry: 'naive' });
    expect(r.crashed).toBe(true);
    expect(r.crashReason).toMatch(/corrupted return/);
    expect(r.breakpoints).toBeGreaterThan(0);
    expectArticleChain(r, '#BP');
  });

  it('a storm without faults in the handler survives: the hardware latch keeps one NMI', () => {
    const r = runScenario('storm', { entry: 'naive' });
    expect(r.crashed).toBe(false);
    expect(r.accountedFor).toBe(true);
    expect(r.nmis.mergedByHardware).toBeGreaterThan(0);
    expect(nmiAccountingErrors(r)).toEqual([]);
    expect(r.deepestNesting).toBe(1);
  });
});

describe('the four scenarios under the 3.3 entry (nested)', () => {
  for (const id of ['watchdog-dump', 'perf-vmalloc', 'kprobe', 'storm'] as const) {
    it(`${id}: completes with every NMI accounted for`, () => {
      const r = runScenario(id, { entry: 'nested' });
      expect(r.crashed).toBe(false);
      expect(r.accountedFor).toBe(true);
      expect(nmiAccountingErrors(r)).toEqual([]);
      if (id !== 'storm') {
        // The nested NMI was caught: it never ran the handler inside the first one.
        expect(r.deepestNesting).toBe(2);
        expect(r.deepestHandlerNesting).toBe(1);
        expect(landmarks(r)).toContain('nested_nmi');
        expect(landmarks(r)).toContain('repeat_nmi');
      }
      if (id === 'watchdog-dump') expect(r.dump?.complete).toBe(true);
    });
  }
});

/** One CPU running getpid in a loop, the sampler's buffer not yet mapped in its table. */
function oneCpu(extra: Partial<ScenarioSpec> = {}): ScenarioSpec {
  const base = scenarioSpec('perf-vmalloc');
  return { ...base, cpus: [base.cpus[0]!], injections: [{ cpu: 0, source: 'sampler', arrival: { kind: 'at-step', step: 40 } }], ...extra };
}

function once(test: (k: Kernel, cpu: number) => boolean): (k: Kernel, cpu: number) => 'sampler' | undefined {
  let done = false;
  return (k, cpu) => {
    if (done || !test(k, cpu)) return undefined;
    done = true;
    return 'sampler';
  };
}

describe('the windows the article singles out', () => {
  it('an NMI after the variable is cleared but before iretq is still caught by the stack-pointer check', () => {
    const r = runScenario('perf-vmalloc', {
      entry: 'nested',
      spec: oneCpu(),
      probe: once((k, cpu) => cpu === 0 && k.machine.cpus[0]!.rip === k.symbol('nmi_exit_jmp')),
    });
    expect(r.crashed).toBe(false);
    expect(r.accountedFor).toBe(true);
    const marks = landmarks(r);
    expect(marks.indexOf('nested_nmi')).toBeGreaterThan(marks.indexOf('nmi_restore'));
    expect(marks).toContain('repeat_nmi');
    expect(r.nmis.handled).toBe(2);
  });

  it('an NMI while the first is in repeat_nmi is dropped there, and the repeat handles its event', () => {
    const r = runScenario('perf-vmalloc', {
      entry: 'nested',
      spec: oneCpu({
        injections: [
          { cpu: 0, source: 'sampler', arrival: { kind: 'at-step', step: 40 } },
          { cpu: 0, source: 'sampler', arrival: { kind: 'after-exception-iret', delay: 3 } },
        ],
      }),
      probe: once((k, cpu) => {
        const rip = k.machine.cpus[cpu]!.rip;
        return cpu === 0 && rip > k.symbol('repeat_nmi') && rip < k.symbol('end_repeat_nmi');
      }),
    });
    expect(r.crashed).toBe(false);
    expect(r.accountedFor).toBe(true);
    const marks = landmarks(r);
    expect(marks.slice(marks.indexOf('repeat_nmi'))).toContain('nested_nmi_out');
    expect(r.nmis.raised).toBe(3);
    expect(r.nmis.handled).toBe(2);
    // The second NMI was merged (its nested path set up repeat_nmi), the third was merged into that repeat.
    expect(r.nmis.mergedBySoftware).toBe(2);
    expect(r.nmis.repeats).toBe(1);
    expect(r.nmis.lost).toBe(0);
    expect(nmiAccountingErrors(r)).toEqual([]);
  });

  it('user mode with its stack pointer inside the NMI stack is not taken for a nested NMI (the CS check)', () => {
    const top = layoutOf('x86_64').ist + BigInt(layoutOf('x86_64').nmiStack[1]);
    const r = runScenario('perf-vmalloc', {
      entry: 'nested',
      spec: oneCpu({ cpus: [{ program: { kind: 'user-stack-pointer', rsp: top - 0x40n }, bufferSynced: true, lockedUp: false }], injections: [] }),
      probe: once((k, cpu) => cpu === 0 && k.machine.cpus[0]!.cpl === 3 && k.machine.cpus[0]!.instructions > 60),
    });
    expect(r.crashed).toBe(false);
    expect(r.accountedFor).toBe(true);
    expect(landmarks(r)).toContain('first_nmi');
    expect(landmarks(r)).not.toContain('nested_nmi');
    expect(r.nmis.handled).toBe(1);
  });

  it('3.3 hazard kept as it was: the same stack pointer at the syscall entry (kernel CS) makes the NMI look nested and it is lost', () => {
    const top = layoutOf('x86_64').ist + BigInt(layoutOf('x86_64').nmiStack[1]);
    const r = runScenario('perf-vmalloc', {
      entry: 'nested',
      spec: oneCpu({ cpus: [{ program: { kind: 'user-stack-pointer', rsp: top - 0x40n }, bufferSynced: true, lockedUp: false }], injections: [] }),
      probe: once((k, cpu) => cpu === 0 && k.machine.cpus[0]!.rip === k.symbol('system_call_after_swapgs')),
    });
    expect(landmarks(r)).toContain('nested_nmi');
    expect(r.nmis.handled).toBe(0);
    // Nothing merged it: no NMI was running. It is counted as lost, not as merged.
    expect(r.nmis.lost).toBe(1);
    expect(r.nmis.mergedBySoftware).toBe(0);
    expect(r.nmis.repeats).toBe(0);
    expect(nmiAccountingErrors(r)).toEqual([]);
    expect(r.accountedFor).toBe(false);
  });
});
