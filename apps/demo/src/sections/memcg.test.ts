import { describe, expect, it } from 'vitest';
import { memcgSection } from './memcg.js';
import { UsageError } from './section.js';

describe('kernsim memcg', () => {
  it('compares the three designs with tables, charts and a reading drawn from the run', async () => {
    const report = await memcgSection.run({ scale: '3', workload: 'many-cgroups' });
    const kinds = report.blocks.map((b) => b.kind);
    expect(kinds).toContain('table');
    expect(kinds).toContain('figure');
    const data = report.data as { results: { design: string }[] };
    expect(data.results.map((r) => r.design)).toEqual(['costa', 'souhlal', 'objcg']);
  });

  it('rejects a bad option as a usage error', () => {
    expect(() => memcgSection.run({ scale: '0' })).toThrow(UsageError);
  });
});
