import { describe, expect, it } from 'vitest';
import type { Block } from '../report/model.js';
import { memcgSection } from './memcg.js';
import { UsageError } from './section.js';

type Figure = Extract<Block, { kind: 'figure' }>;

function figures(blocks: readonly Block[]): Figure[] {
  return blocks.filter((b): b is Figure => b.kind === 'figure');
}

describe('kernsim memcg', () => {
  it('compares the three designs with tables, charts and a reading drawn from the run', async () => {
    const report = await memcgSection.run({ scale: '3', workload: 'many-cgroups' });
    const kinds = report.blocks.map((b) => b.kind);
    expect(kinds).toContain('table');
    expect(kinds).toContain('figure');
    const data = report.data as { results: { design: string }[] };
    expect(data.results.map((r) => r.design)).toEqual(['costa', 'souhlal', 'objcg']);
    // Worst cases say so wherever they are shown; bars in the terminal are block characters.
    for (const f of figures(report.blocks).filter((b) => b.title.includes('many-cgroups'))) {
      expect(f.title.startsWith('[worst case]')).toBe(true);
      expect(f.alt).toMatch(/█/);
    }
  });

  it('shows the modelled host per container type, labelled, with the counter each design charges', async () => {
    const report = await memcgSection.run({ scale: '3', workload: 'host' });
    const tables = report.blocks.filter((b) => b.kind === 'table');
    const accuracy = tables.find((t) => t.title?.startsWith('[modelled host] kernel memory charged vs used'));
    expect(accuracy?.rows.length).toBe(12);
    const costaRows = accuracy?.rows.filter((r) => String(r[1]).startsWith('Costa')) ?? [];
    expect(costaRows.map((r) => r[3])).toEqual(['memory', 'memory', 'memory', 'memory']);
    const list = report.blocks.find((b) => b.kind === 'list');
    expect(list?.kind === 'list' && list.items.some((i) => i.includes('max_connections'))).toBe(true);
  });

  it('draws the dying-cgroup series as SVG columns and block-character lines, one column per sample', async () => {
    const report = await memcgSection.run({ scale: '3', workload: 'dying' });
    const data = report.data as { dying: { design: string; samples: { deadCgroupsAlive: number }[] }[] };
    expect(data.dying.map((s) => s.design)).toEqual(['costa', 'souhlal', 'objcg']);
    const alive = figures(report.blocks).find((f) => f.title === '[modelled host] dying: removed memory cgroups still alive');
    expect(alive).toBeDefined();
    const samples = data.dying[0]?.samples.length ?? 0;
    expect(alive?.svg.match(/<rect /g)?.length).toBe(3 * samples);
    const lines = alive?.alt.split('\n') ?? [];
    const souhlal = lines.find((l) => l.includes('Souhlal')) ?? '';
    expect([...souhlal.matchAll(/[ ▁▂▃▄▅▆▇█]/g)].length).toBeGreaterThanOrEqual(samples);
    expect(souhlal).toMatch(/█/);
    expect(souhlal.endsWith(`${String(data.dying[1]?.samples.at(-1)?.deadCgroupsAlive)} cgroups`)).toBe(true);
  });

  it('rejects a bad option as a usage error', () => {
    expect(() => memcgSection.run({ scale: '0' })).toThrow(UsageError);
    expect(() => memcgSection.run({ workload: 'bogus' })).toThrow(UsageError);
  });
});
