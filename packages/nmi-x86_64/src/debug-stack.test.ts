import { describe, expect, it } from 'vitest';
import { layoutOf, scenarioSpec } from '@kernsim/kernel';
import type { ScenarioResult } from '@kernsim/kernel';
import { runScenario } from './scenarios.js';

const L = layoutOf('x86_64');
const nmiStack = [L.ist + BigInt(L.nmiStack[0]), L.ist + BigInt(L.nmiStack[1])] as const;
const debugStack = [L.ist + BigInt(L.debugStack[0]), L.ist + BigInt(L.debugStack[1])] as const;

/** The frame address of the #BP taken inside the NMI handler (at perf_sample's probe). */
function nmiBreakpointFrame(r: ScenarioResult): bigint {
  const e = r.events.find((x) => x.kind === 'delivery' && x.text.startsWith('#BP delivered inside NMI context'));
  const m = /frame at 0x([0-9a-f]+)/.exec(e?.text ?? '');
  return BigInt(`0x${m?.[1] ?? '0'}`);
}

describe('the debug-stack part of the 3.3 series (debug_stack_set_zero / debug_stack_reset)', () => {
  it('without it, a breakpoint in an NMI handler that interrupted a #BP handler restarts the debug stack on top of that handler\'s frame', () => {
    const r = runScenario('debug-stack', { entry: 'nested', withoutDebugStackFix: true });
    expect(r.crashed).toBe(true);
    expect(r.crashReason).toMatch(/debug IST stack/);
    expect(r.events.some((e) => e.kind === 'overwrite' && e.text.includes('#BP'))).toBe(true);
    const f = nmiBreakpointFrame(r);
    expect(f > debugStack[0] && f < debugStack[1]).toBe(true);
    // The NMI itself was fine: the 3.3 entry handled it.
    expect(r.nmis.handled).toBe(1);
  });

  it('with it, do_nmi sees regs->sp on the debug stack, loads nmi_idt_table with lidt, and the breakpoint stays on the NMI stack', () => {
    const r = runScenario('debug-stack', { entry: 'nested' });
    expect(r.crashed).toBe(false);
    expect(r.accountedFor).toBe(true);
    expect(r.nmis.handled).toBe(1);
    const marks = r.events.filter((e) => e.kind === 'landmark').map((e) => e.text);
    expect(marks).toContain('debug_stack_set_zero');
    expect(marks.indexOf('debug_stack_reset')).toBeGreaterThan(marks.indexOf('debug_stack_set_zero'));
    expect(r.events.some((e) => e.kind === 'overwrite')).toBe(false);
    const f = nmiBreakpointFrame(r);
    expect(f > nmiStack[0] && f < nmiStack[1]).toBe(true);
    // Both probes ran: the one the NMI interrupted, and the one in the NMI handler.
    expect(r.kprobeHits).toBeGreaterThanOrEqual(2);
  });

  it('the switch is per CPU: while CPU 0 runs its NMI on nmi_idt_table, CPU 1 keeps idt_table, and CPU 0 gets it back', () => {
    const base = scenarioSpec('debug-stack');
    const spec = { ...base, cpus: [...base.cpus, { program: { kind: 'kernel-loop' as const }, bufferSynced: true, lockedUp: false }] };
    const seen: { cpu0: bigint; cpu1: bigint }[] = [];
    let tables: { normal: bigint; nmi: bigint } | undefined;
    let after: bigint | undefined;
    const r = runScenario('debug-stack', {
      entry: 'nested',
      spec,
      setup: (k) => {
        tables = { normal: k.machine.idt.base, nmi: k.symbol('nmi_idt_table') };
      },
      probe: (k, cpu) => {
        if (cpu === 0 && k.machine.cpus[0]!.rip === k.symbol('debug_stack_reset')) {
          seen.push({ cpu0: k.machine.cpus[0]!.idtr.base, cpu1: k.machine.cpus[1]!.idtr.base });
        }
        if (cpu === 0 && seen.length > 0 && k.machine.cpus[0]!.rip === k.symbol('kthread_probed_loop')) after ??= k.machine.cpus[0]!.idtr.base;
        return undefined;
      },
    });
    expect(r.crashed).toBe(false);
    expect(seen).toEqual([{ cpu0: tables?.nmi, cpu1: tables?.normal }]);
    expect(after).toBe(tables?.normal);
  });

  it('the pre-3.3 entry has no such fix either and fails the same way', () => {
    const r = runScenario('debug-stack', { entry: 'naive' });
    expect(r.crashed).toBe(true);
    expect(r.crashReason).toMatch(/debug IST stack/);
  });

  it('an NMI that did not interrupt the debug stack leaves the IDT alone (is_debug_stack is false)', () => {
    const r = runScenario('perf-vmalloc', { entry: 'nested' });
    const marks = r.events.filter((e) => e.kind === 'landmark').map((e) => e.text);
    expect(marks).not.toContain('debug_stack_set_zero');
    expect(marks).not.toContain('debug_stack_reset');
  });
});
