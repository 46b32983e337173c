import { describe, expect, it } from 'vitest';
import { main } from '../cli.js';
import { captureIo as capture } from './capture-io.test-support.js';
import { exploreSection } from './explore.js';

describe('kernsim explore --patch', () => {
  it('finds the protocol without its tail sync failing, prints the JSON keys, saves and replays the counterexample', async () => {
    const c = capture();
    expect(await main(['explore', '--patch', 'no-sync-2', '--depth', '56', '--json', '--save', 'cx.json'], [exploreSection], c.io)).toBe(0);
    const data = JSON.parse(c.out()) as { verdict: string; budget: string; violations: { invariant: string; start: string; schedule: unknown[] }[] };
    expect(data.verdict).toBe('violated');
    expect(data.budget).toBe('2 CPUs, depth 56 in each of 3 phases');
    expect(data.violations.map((v) => v.invariant).sort()).toEqual(['stale-mix', 'torn-instruction']);
    const saved = JSON.parse(c.files.get('cx.json') ?? '{}') as { format?: string; invariant?: string };
    expect(saved.format).toBe('kernsim-patch-counterexample');

    const r = capture();
    r.files.set('cx.json', c.files.get('cx.json')!);
    expect(await main(['explore', '--replay', 'cx.json'], [exploreSection], r.io)).toBe(0);
    expect(r.out()).toContain(`Reproduced: ${saved.invariant}`);
    expect(r.out()).toContain('site: e8 17 00 00 00');
  }, 60_000);

  it('rejects an unknown protocol, a CPU count out of range and NMI-only options with exit 2', async () => {
    // NMI-only options were silently ignored under --patch when they had a default (--nmis, --arch, --entry, --start).
    for (const args of [['--patch', 'no-sync-4'], ['--patch', 'full', '--cpus', '9'], ['--patch', 'full', '--variant', 'variable-only'], ['--patch', 'full', '--nmis', '3'], ['--patch', 'full', '--arch', 'i386'], ['--patch', 'full', '--entry', 'naive'], ['--patch', 'full', '--start', 'user']]) {
      const c = capture();
      expect(await main(['explore', ...args], [exploreSection], c.io)).toBe(2);
      expect(c.err()).toMatch(/^kernsim: .*\n$/);
    }
  });

  it('--cpus without --patch is refused, not ignored by the NMI search', async () => {
    const c = capture();
    expect(await main(['explore', '--cpus', '3', '--start', 'kernel-thread', '--nmis', '0', '--threads', '1'], [exploreSection], c.io)).toBe(2);
    expect(c.err()).toBe('kernsim: --cpus applies to --patch (text patching), not to the NMI explorer\n');
  }, 60_000);
});
