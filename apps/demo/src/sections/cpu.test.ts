import { describe, expect, it } from 'vitest';
import { cpuSection } from './cpu.js';

describe('kernsim cpu', () => {
  it('shows the ftrace site as a nop before and a call to mcount after, with no faults', async () => {
    const report = await cpuSection.run({});
    const data = report.data as { before: string; after: string; funcCalls: number; mcountHits: number; faults: number; console: string };
    expect(data.before).toContain('0f 1f 44 00 00');
    expect(data.before).toContain('65 48 8b 04 25 80 c8 00 00');
    expect(data.after).toMatch(/e8 .. 00 00 00 +callq .* <mcount>/);
    expect(data.faults).toBe(0);
    expect(data.mcountHits).toBeGreaterThan(0);
    expect(data.mcountHits).toBeLessThan(data.funcCalls);
    expect(data.console).toContain('patched');
  });

  it('rejects a bad option', async () => {
    await expect(Promise.resolve().then(() => cpuSection.run({ scheduler: 'fifo' }))).rejects.toMatchObject({ code: 'KERNSIM_USAGE' });
  });
});
