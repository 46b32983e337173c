import { describe, expect, it } from 'vitest';
import { imm, qword, reg } from '../asm/operands.js';
import { kit } from '../testing/kit.js';
import { CpuState } from './cpu.js';
import { CpuSlots, STRIDE } from './cpu-slots.js';
import { MachineCore } from './core.js';
import { X86_64 } from './arch.js';
import { resolveTiming } from './timing/model.js';
import { loadCpus, saveCpus } from './snapshot.js';

const FIELDS = Object.getOwnPropertyNames(CpuSlots.prototype).filter((k) => k !== 'constructor');
/** The numeric fields `CpuState` keeps as plain properties (all others are slots). */
const PLAIN = ['state', 'nmiPending', 'nmiBlocked', 'irqCount', 'fl', 'cpl', 'ipLo', 'ipHi', 'cf', 'pf', 'af', 'zf', 'sf', 'of', 'vh', 'eaLo', 'eaHi', 'rh', 'cycles', 'instructions', 'nextEvent', 'serialSeq'];
const VIEWS = ['lo', 'hi', 'tssLo', 'tssHi', 'nmi', 'counts', 'irq', 'tlbR', 'tlbW'] as const;

function core(cpus: number): MachineCore {
  const c = new MachineCore(X86_64, resolveTiming(undefined, 1, undefined, undefined), 1, 256, false, cpus);
  for (let i = 0; i < cpus; i++) c.cpus.push(new CpuState(i, c, c.cpuFile));
  return c;
}

/** Every scalar and view element of a CPU, as numbers (booleans as 0/1). */
function everything(c: CpuState): number[] {
  const rec = c as unknown as Record<string, number | boolean | ArrayLike<number>>;
  const scalars = FIELDS.map((k) => Number(rec[k]));
  return [...scalars, ...VIEWS.flatMap((v) => Array.from(rec[v] as ArrayLike<number>))];
}

function clear(m: MachineCore): void {
  m.cpuFile.state.fill(0);
  m.cpuFile.events.fill(0);
  m.cpuFile.tlb.fill(0);
}

describe('flat CPU state', () => {
  it('gives every field its own slot: setting one changes no other field of any CPU', () => {
    const m = core(3);
    expect(FIELDS.length).toBeGreaterThan(40);
    for (const k of FIELDS) {
      clear(m);
      const c = m.cpus[1]! as unknown as Record<string, number | boolean>;
      c[k] = typeof c[k] === 'boolean' ? true : 0x12345;
      const seen = everything(m.cpus[1]!);
      expect(seen.filter((x) => x !== 0)).toEqual([seen[FIELDS.indexOf(k)]]);
      expect(everything(m.cpus[0]!).every((x) => x === 0)).toBe(true);
      expect(everything(m.cpus[2]!).every((x) => x === 0)).toBe(true);
    }
  });

  it('keeps values a field holds exactly: 64-bit halves, cycle counts past 2^32, Infinity, -1', () => {
    const c = core(1).cpus[0]!;
    c.ipLo = 0xffffffff;
    c.cycles = 2 ** 52 + 1;
    c.cr0 = 0x80000011;
    c.fCode = -1;
    c.fl = 0x257fd5;
    c.nextNmi = 1;
    c.nextNmi = Infinity;
    c.nextTimer = 2 ** 40 + 3;
    expect([c.ipLo, c.cycles, c.nextNmi, c.nextTimer, c.cr0, c.fCode, c.fl]).toEqual([0xffffffff, 2 ** 52 + 1, Infinity, 2 ** 40 + 3, 0x80000011, -1, 0x257fd5]);
  });

  it('saveCpus/loadCpus bring back every slot, plain field and view of every CPU', () => {
    const m = core(3);
    const fill = (base: number): void => {
      m.cpus.forEach((c, n) => {
        const rec = c as unknown as Record<string, number | boolean | Uint32Array>;
        [...FIELDS, ...PLAIN].forEach((k, j) => {
          rec[k] = typeof rec[k] === 'boolean' ? (base + j + n) % 2 === 0 : base + 7 * j + n;
        });
        for (const v of VIEWS) (rec[v] as Uint32Array).fill(base + n);
        c.ipiAt.push(base + n);
        c.codeVpn = base + n;
        c.lastFault = { vector: n, errorCode: base, rip: 0n, reason: `r${base}` };
      });
    };
    // The cached code page and the TLB tags are caches: loading flushes them (-1) instead of restoring them.
    const image = (): unknown[] => m.cpus.map((c) => [everything(c), PLAIN.map((k) => Number((c as unknown as Record<string, number>)[k])), c.ipiAt.slice(), c.lastFault]);
    fill(1000);
    const saved = saveCpus(m);
    const before = image();
    fill(5000);
    expect(image()).not.toEqual(before);
    loadCpus(m, saved);
    const after = image() as [number[], ...unknown[]][];
    const tlb = (img: unknown[]): unknown[] => (img as [number[], ...unknown[]][]).map(([all, ...rest]) => [all.slice(0, all.length - 128), ...rest]);
    expect(tlb(after)).toEqual(tlb(before));
    expect(after.every(([all]) => all.slice(-128).every((x) => x === -1))).toBe(true);
    expect(m.cpus.map((c) => c.codeVpn)).toEqual([-1, -1, -1]);
  });

  it('views of one CPU stay inside its stride of the shared buffer', () => {
    const m = core(2);
    const c = m.cpus[1]!;
    for (const v of ['lo', 'hi', 'tssLo', 'tssHi', 'nmi'] as const) {
      expect(c[v].buffer).toBe(m.cpuFile.state.buffer);
      expect(c[v].byteOffset).toBeGreaterThanOrEqual(STRIDE);
      expect(c[v].byteOffset + c[v].byteLength).toBeLessThanOrEqual(2 * STRIDE);
    }
  });

  it('restore puts every CPU field back, including events, pending IPIs and the last fault', () => {
    const k = kit({ arch: 'x86_64', cpus: 2 });
    const a = k.asm();
    a.label('start').mov(reg.rax, imm(5)).label('.l').add(qword(k.layout.data), reg.rax).ud2();
    k.m.loadCode(a.assemble());
    k.m.start(0, { rip: 'start', rsp: k.stackTop(0) });
    k.m.start(1, { rip: 'start', rsp: k.stackTop(1) });
    const snap = k.m.snapshot();
    const before = k.m.cpus.map((c) => ({ rip: c.rip, rax: c.reg('rax'), counters: c.counters, fault: c.lastFault, status: c.status }));
    k.m.injectIrq(1, 0x40);
    k.m.run({ steps: 40 });
    expect(k.m.cpus[0]!.lastFault).toBeDefined();
    expect(k.m.hash()).not.toBe(snap.hash);
    k.m.restore(snap);
    expect(k.m.hash()).toBe(snap.hash);
    expect(k.m.cpus.map((c) => ({ rip: c.rip, rax: c.reg('rax'), counters: c.counters, fault: c.lastFault, status: c.status }))).toEqual(before);
    expect(k.m.cpus[1]!.irqPending).toBe(false);
  });
});
