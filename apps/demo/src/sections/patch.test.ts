import { describe, expect, it } from 'vitest';
import { patchSection } from './patch.js';
import type { SectionContext } from './section.js';

interface Row {
  method: string;
  cpus: number;
  variant: string;
  completed: boolean;
  gpFaults: number;
  ipisSent: number;
  stallTotal: number;
}
interface Data {
  run: { gpFaults: number; completed: boolean; listings: { when: string; bytes: string }[]; observed: number[][] };
  figures: Row[];
  batching: { batch: { syncRounds: number; ipisSent: number }; each: { syncRounds: number; ipisSent: number } };
  nmiSweeps: { method: string; ftraceNmiProtocol: boolean; crashes: number }[];
  costCurve: { method: string; cpus: number; patchCycles: number; ipisSent: number; ipisDelivered: number; terms?: { wake: number } }[];
}

describe('kernsim patch', () => {
  it('the tour: listings from memory, figures per method and CPU count, batching and the NMI sweeps', async () => {
    const report = await patchSection.run({ maxCpus: '16' });
    const data = report.data as Data;
    const at = (when: string): string => data.run.listings.find((l) => l.when === when)?.bytes ?? '';
    expect(at('patch starts')).toContain('0f 1f 44 00 00');
    expect(at('sync 1')).toContain('cc 1f 44 00 00');
    expect(at('patch done')).toMatch(/e8 .. 00 00 00/);
    expect(data.run.gpFaults).toBe(0);
    expect(data.figures.map((r) => r.cpus)).toEqual(expect.arrayContaining([2, 4, 16]));
    for (const r of data.figures) {
      // (an NMI delivered to the only other CPU after the write serialises it: no #GP there)
      if (r.method === 'direct') expect(r.gpFaults).toBeGreaterThan(r.cpus === 2 && r.variant === 'nmi' ? -1 : 0);
      else expect(r.completed && r.gpFaults === 0).toBe(true);
    }
    const quiet = (method: string, cpus: number): Row => data.figures.find((r) => r.method === method && r.cpus === cpus && r.variant === 'quiet')!;
    expect(quiet('breakpoint', 16).ipisSent).toBe(3 * 15);
    expect(quiet('stop-machine', 16).stallTotal).toBeGreaterThan(quiet('stop-machine', 4).stallTotal);
    expect(data.batching.batch.syncRounds).toBe(3);
    expect(data.batching.each.syncRounds).toBe(12);
    expect(data.nmiSweeps.find((s) => s.method === 'stop-machine' && !s.ftraceNmiProtocol)?.crashes).toBeGreaterThan(0);
    expect(data.nmiSweeps.find((s) => s.method === 'stop-machine' && s.ftraceNmiProtocol)?.crashes).toBe(0);
    expect(report.blocks.filter((b) => b.kind === 'figure').length).toBeGreaterThanOrEqual(7);
    // the modelled cost curve: stop_machine grows with the CPU count, its wake-ups with it
    const curve = (method: string, cpus: number) => data.costCurve.find((r) => r.method === method && r.cpus === cpus)!;
    expect(curve('stop-machine', 16).patchCycles).toBeGreaterThan(2 * curve('stop-machine', 4).patchCycles);
    expect(curve('stop-machine', 16).terms!.wake).toBeGreaterThan(3 * curve('stop-machine', 4).terms!.wake);
    for (const r of data.costCurve) expect(r.ipisDelivered).toBe(r.ipisSent);
    const terminal = report.blocks.find((b) => b.kind === 'pre' && b.title?.startsWith('Patch time by CPU count'));
    expect(terminal?.kind === 'pre' ? terminal.text : '').toMatch(/stop_machine 16 CPUs +█+/);
  });

  it('--method direct --user static-key --cpus 2: the other CPU takes #GP at the site', async () => {
    const report = await patchSection.run({ method: 'direct', user: 'static-key', cpus: '2', maxCpus: '2' });
    const data = report.data as Data;
    expect(data.run.gpFaults).toBeGreaterThan(0);
    const text = report.blocks.map((b) => (b.kind === 'paragraph' ? b.text : '')).join('\n');
    expect(text).toContain('cross-modified');
  });

  it('rejects a bad option', async () => {
    await expect(Promise.resolve().then(() => patchSection.run({ method: 'poke' }))).rejects.toMatchObject({ code: 'KERNSIM_USAGE' });
    await expect(Promise.resolve().then(() => patchSection.run({ cpus: '5000' }))).rejects.toMatchObject({ code: 'KERNSIM_USAGE' });
  });
});

describe('patch section options', () => {
  it('takes only the CPU counts the figures are drawn for as --max-cpus', async () => {
    for (const bad of ['5', '100', '8192', '0', '16.5']) {
      await expect(Promise.resolve().then(() => patchSection.run({ maxCpus: bad })), bad).rejects.toMatchObject({ name: 'UsageError', message: `--max-cpus must be one of 2, 4, 16, 64, 256, 1024, 4096; got "${bad}"` });
    }
  });
});

describe('patch section progress', () => {
  /** A context whose stderr is or is not a terminal, keeping what is written to it. */
  function context(isTTY: boolean): { ctx: SectionContext; err: () => string } {
    let err = '';
    const ctx: SectionContext = {
      stderr: { write: (text: string) => (err += text), isTTY },
      readFile: () => Promise.reject(new Error('unused')),
      writeFile: () => Promise.resolve(),
      onInterrupt: () => undefined,
      now: () => 0,
    };
    return { ctx, err: () => err };
  }

  it('names each part on a terminal while it runs, and clears the line at the end; the report is the same', async () => {
    const tty = context(true);
    const withProgress = await patchSection.run({ maxCpus: '4', cpus: '2' }, tty.ctx);
    const lines = tty.err().split('\r\x1b[K').filter((s) => s !== '');
    expect(lines).toEqual([
      'patch: breakpoint run on 2 CPUs…',
      'patch: figures at 2 CPUs…',
      'patch: figures at 4 CPUs…',
      'patch: batching on 2 CPUs…',
      'patch: cost curve at 2 CPUs…',
      'patch: cost curve at 4 CPUs…',
      'patch: NMI sweeps…',
    ]);
    expect(tty.err().endsWith('\r\x1b[K')).toBe(true);
    const piped = context(false);
    const without = await patchSection.run({ maxCpus: '4', cpus: '2' }, piped.ctx);
    expect(piped.err()).toBe('');
    expect(JSON.stringify(without.data)).toBe(JSON.stringify(withProgress.data));
  });
});
