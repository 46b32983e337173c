import { describe, expect, it } from 'vitest';
import { nmiSection } from './nmi.js';

interface RunData {
  arch: string;
  entry: string;
  without: string | null;
  crashed: boolean;
  crashReason: string | null;
  nmis: { raised: number; handled: number; mergedByHardware: number; mergedBySoftware: number };
  accountedFor: boolean;
  dump: { complete: boolean } | null;
  deepestNesting: number;
}

describe('kernsim nmi', () => {
  it('the tour: the watchdog dump crashes the pre-3.3 entry with a partial dump, and completes under 3.3 and the i386 latch', async () => {
    const report = await nmiSection.run({});
    const data = report.data as RunData[];
    expect(data.map((d) => `${d.arch}/${d.entry}`)).toEqual(['x86_64/naive', 'x86_64/nested', 'i386/nested']);
    const [naive, nested, i386] = data;
    expect(naive?.crashed).toBe(true);
    expect(naive?.dump?.complete).toBe(false);
    for (const d of [nested, i386]) {
      expect(d?.crashed).toBe(false);
      expect(d?.dump?.complete).toBe(true);
      expect(d?.accountedFor).toBe(true);
      expect(d?.deepestNesting).toBe(2);
    }
    // Stack diagrams of the x86_64 runs, as text and as SVG.
    expect(report.blocks.some((b) => b.kind === 'figure' && b.svg.startsWith('<svg'))).toBe(true);
    expect(report.blocks.some((b) => b.kind === 'pre' && b.text.includes('NMI executing'))).toBe(true);
  });

  it('one arch and entry at a time', async () => {
    const report = await nmiSection.run({ arch: 'x86_64', entry: 'naive', scenario: 'perf-vmalloc' });
    const data = report.data as RunData[];
    expect(data).toHaveLength(1);
    expect(data[0]?.crashReason).toMatch(/corrupted return/);
  });

  it('debug-stack: the 3.3 entry without and with debug_stack_set_zero', async () => {
    const data = (await nmiSection.run({ scenario: 'debug-stack' })).data as RunData[];
    expect(data.map((d) => [d.without, d.crashed])).toEqual([
      ['debugStackFix', true],
      [null, false],
    ]);
  });

  it('--without leaves one part of the series out', async () => {
    const data = (await nmiSection.run({ arch: 'x86_64', entry: 'nested', scenario: 'kprobe', without: 'restoreCopiedFrame' })).data as RunData[];
    expect(data[0]?.without).toBe('restoreCopiedFrame');
    expect(data[0]?.crashed).toBe(true);
  });

  it('rejects bad options with a usage error', async () => {
    for (const o of [{ scenario: 'nope' }, { arch: 'arm' }, { arch: 'i386', without: 'stackCheck' }, { arch: 'i386', scenario: 'debug-stack' }, { delay: '-3' }]) {
      await expect(Promise.resolve().then(() => nmiSection.run(o))).rejects.toMatchObject({ code: 'KERNSIM_USAGE' });
    }
  });
});
