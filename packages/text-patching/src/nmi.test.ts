import { describe, expect, it } from 'vitest';
import { nmiSweep } from './figures.js';
import { runPatch } from './run.js';

// The NMI handler of the simulated kernel calls the first patched function, as a perf or
// watchdog handler calls traced code; the sweeps send one NMI per run at CPU 1, at every
// other cycle of the patch window. Flat timing: a cycle is an instruction, so the sweep
// tries every other instruction boundary (the modelled clock would need ten times the runs).
describe('an NMI arriving during the patch', () => {
  it('on a CPU stopped by stop_machine, the NMI runs the half-written site: #GP, and the patch never completes', () => {
    const sweep = nmiSweep('stop-machine', false, { stride: 2, timing: 'flat' });
    expect(sweep.arrivals).toBeGreaterThan(50);
    expect(sweep.crashes).toBeGreaterThan(0);
    const at = sweep.firstCrashAt ?? -1;
    const r = runPatch({ method: 'stop-machine', cpus: 2, settle: 1, timing: 'flat', nmi: { cpu: 1, afterCycles: at } });
    expect(r.nmis).toBe(1);
    expect(r.gpAt).toBe(r.sites[0]!.address);
    expect(r.perCpu[1]!.status).toBe('halted');
    // CPU 1 died in the rendezvous, so the patcher waits for its acknowledgement forever.
    expect(r.completed).toBe(false);
  });

  it("with 3.3 ftrace's NMI protocol, an NMI that arrives during the write does the write itself, and nothing crashes", () => {
    const sweep = nmiSweep('stop-machine', true, { stride: 2, timing: 'flat' });
    expect(sweep.crashes).toBe(0);
    expect(sweep.selfWrites).toBeGreaterThan(0);
  });

  it('under the breakpoint method the NMI handler takes the int3 at the site and goes on', () => {
    for (const arch of ['x86_64', 'i386'] as const) {
      const sweep = nmiSweep('breakpoint', false, { stride: 3, arch, timing: 'flat' });
      expect(sweep.crashes).toBe(0);
      expect(sweep.int3InNmi).toBeGreaterThan(0);
    }
  });
});
