import { describe, expect, it } from 'vitest';
import { main } from '../cli.js';
import { captureIo as capture } from './capture-io.test-support.js';
import { exploreSection } from './explore.js';

const naive = ['explore', '--entry', 'naive', '--start', 'nmi-perf', '--nmis', '1', '--threads', '1'];

describe('kernsim explore', () => {
  it('finds the naive entry\'s failures with no hint, prints the JSON the issue names, saves and replays the counterexample', async () => {
    const c = capture();
    expect(await main([...naive, '--json', '--save', 'cx.json'], [exploreSection], c.io)).toBe(0);
    const data = JSON.parse(c.out()) as { verdict: string; states: number; schedules: number; elapsedMs: number; violations: { invariant: string; start: string; detail: string; schedule: unknown[] }[] };
    expect(Object.keys(data)).toEqual(expect.arrayContaining(['verdict', 'states', 'schedules', 'elapsedMs', 'violations']));
    expect(data.verdict).toBe('violated');
    expect(data.violations.map((v) => v.invariant).sort()).toEqual(['nmi-handler-not-nested', 'return-frame']);
    expect(data.violations.every((v) => v.start === 'nmi-perf' && v.schedule.length > 0)).toBe(true);
    expect(data.elapsedMs).toBeGreaterThan(0);
    const saved = JSON.parse(c.files.get('cx.json') ?? '{}') as { invariant?: string };
    expect(saved.invariant).toBe(data.violations[0]!.invariant);

    const r = capture();
    r.files.set('cx.json', c.files.get('cx.json')!);
    expect(await main(['explore', '--replay', 'cx.json'], [exploreSection], r.io)).toBe(0);
    expect(r.out()).toContain(`Reproduced: ${saved.invariant}`);
    expect(r.out()).toContain('The NMI stack at the failing step');

    // A file of the right shape whose params the model refuses is bad input: one line, exit 2.
    const bad = capture();
    bad.files.set('bad.json', JSON.stringify({ ...saved, params: { ...(saved as { params: object }).params, nmis: -3 } }));
    expect(await main(['explore', '--replay', 'bad.json'], [exploreSection], bad.io)).toBe(2);
    expect(bad.err()).toMatch(/^kernsim: bad\.json: .*nmis/);
  }, 120_000);

  it('says "verified for" its budget when nothing breaks', async () => {
    const c = capture();
    expect(await main(['explore', '--start', 'kernel-thread', '--nmis', '1', '--threads', '1'], [exploreSection], c.io)).toBe(0);
    expect(c.out()).toMatch(/verified for 1 NMI, depth 6000, 1 start state \(\d+ states, \d+ schedules, [\d.]+ s\)/);
  }, 120_000);

  it('--variant ret-from-fault and faulting-iret run the 2010 designs: a verdict for the first, the faulting iretq\'s counterexample for the second', async () => {
    const a = capture();
    expect(await main(['explore', '--variant', 'ret-from-fault', '--start', 'nmi-perf', '--nmis', '1', '--threads', '1'], [exploreSection], a.io)).toBe(0);
    expect(a.out()).toMatch(/Desnoyers 2010.*: verified for 1 NMI, depth 6000, 1 start state/);
    const b = capture();
    expect(await main(['explore', '--variant', 'faulting-iret', '--start', 'nmi-perf', '--nmis', '1', '--threads', '1', '--json'], [exploreSection], b.io)).toBe(0);
    const data = JSON.parse(b.out()) as { verdict: string; violations: { invariant: string; detail: string }[] };
    expect(data.verdict).toBe('violated');
    expect(data.violations.map((v) => v.invariant)).toEqual(['return-frame']);
    expect(data.violations[0]!.detail).toMatch(/returned to nmi_clear_frame/);
  }, 60_000);

  it('--arch i386: the latch without cmpxchg loses an NMI', async () => {
    const c = capture();
    expect(await main(['explore', '--arch', 'i386', '--variant', 'no-cmpxchg', '--start', 'nmi-perf', '--nmis', '1', '--threads', '1', '--json'], [exploreSection], c.io)).toBe(0);
    const data = JSON.parse(c.out()) as { violations: { invariant: string; detail: string }[] };
    expect(data.violations.find((v) => v.invariant === 'nmi-handled-once')?.detail).toMatch(/lost/);
  }, 120_000);

  it('Ctrl-C stops cleanly and reports what it has', async () => {
    const c = capture(true);
    expect(await main([...naive, '--json'], [exploreSection], c.io)).toBe(0);
    expect((JSON.parse(c.out()) as { verdict: string }).verdict).toBe('incomplete');
  }, 120_000);

  it('Ctrl-C during a one-thread search is seen between jobs, not after the whole search', async () => {
    // A real SIGINT is delivered on a turn of the event loop: a timer stands for it here.
    for (const args of [['explore', '--start', 'nmi-perf', '--nmis', '1', '--threads', '1', '--json'], ['explore', '--patch', 'full', '--json']]) {
      const c = capture();
      const io = { ...c.io, onInterrupt: (callback: () => void) => void setTimeout(callback, 0) };
      expect(await main(args, [exploreSection], io)).toBe(0);
      expect((JSON.parse(c.out()) as { verdict: string }).verdict).toBe('incomplete');
    }
  }, 120_000);

  it('keeps a checkpoint it can resume from', async () => {
    const c = capture();
    expect(await main(['explore', '--start', 'kernel-thread', '--nmis', '1', '--threads', '1', '--checkpoint', 'ck.json', '--json'], [exploreSection], c.io)).toBe(0);
    const ck = JSON.parse(c.files.get('ck.json') ?? '{}') as { plans?: Record<string, { queue: unknown[] }> };
    expect(ck.plans?.['kernel-thread']?.queue).toEqual([]);
    const again = capture();
    again.files.set('ck.json', c.files.get('ck.json')!);
    expect(await main(['explore', '--start', 'kernel-thread', '--nmis', '1', '--threads', '1', '--checkpoint', 'ck.json', '--json'], [exploreSection], again.io)).toBe(0);
    // Resumed from a finished plan: nothing left to run, same verdict and counts.
    expect(JSON.parse(again.out())).toMatchObject({ verdict: 'verified', states: (JSON.parse(c.out()) as { states: number }).states });
  }, 120_000);

  it('bad options are one line and exit 2', async () => {
    for (const args of [['--nmis', 'x'], ['--entry', 'weird'], ['--variant', 'stack-only'], ['--entry', 'naive', '--variant', 'faulting-iret'], ['--without', 'nothing'], ['--start', 'moon'], ['--arch', 'i386', '--start', 'user-rsp-nmi-stack'], ['--arch', 'i386', '--variant', 'variable-only'], ['--variant', 'no-cmpxchg'], ['--entry', 'naive', '--without', 'stackCheck'], ['--replay', 'missing.json']]) {
      const c = capture();
      expect(await main(['explore', ...args], [exploreSection], c.io)).toBe(2);
      expect(c.err().trim().split('\n')).toHaveLength(1);
    }
  });

  it('is not part of the tour `kernsim` runs', async () => {
    const c = capture();
    expect(await main(['--json'], [exploreSection], c.io)).toBe(0);
    expect(JSON.parse(c.out())).toMatchObject({ sections: [] });
  });
});
