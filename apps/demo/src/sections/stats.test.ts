import { describe, expect, it } from 'vitest';
import { statsSection } from './stats.js';

describe('kernsim stats', () => {
  it("counts this project's own history by default", async () => {
    const report = await statsSection.run({});
    const data = report.data as { report: { schema: string; totals: { changesets: number } } };
    expect(data.report.schema).toBe('dev-stats/1');
    expect(data.report.totals.changesets).toBeGreaterThan(0);
    expect(report.blocks.some((block) => block.kind === 'table')).toBe(true);
  });

  it('passes a format through and rejects a bad one', async () => {
    const report = await statsSection.run({ format: 'markdown', top: '3' });
    expect(report.blocks.some((block) => block.kind === 'pre' && block.text.includes('## Most active developers'))).toBe(true);
    await expect(statsSection.run({ format: 'pdf' })).rejects.toMatchObject({ code: 'KERNSIM_USAGE' });
  });
});
