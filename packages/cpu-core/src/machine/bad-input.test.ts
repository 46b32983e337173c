import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CpuError } from '../errors.js';
import type { CpuErrorCode } from '../errors.js';
import { imm, qword, reg } from '../asm/operands.js';
import { kit } from '../testing/kit.js';
import { createMachine } from './machine.js';
import type { Scheduler } from './schedule.js';

/** Runs `f` and returns the CpuError it threw (failing the test on anything else or on no error). */
function refused(f: () => unknown): CpuError {
  try {
    f();
  } catch (e) {
    if (e instanceof CpuError) return e;
    throw new Error(`expected a CpuError, got ${String(e)}`, { cause: e });
  }
  throw new Error('expected a CpuError, got no error');
}

function expectRefused(f: () => unknown, code: CpuErrorCode, shows: string): void {
  const e = refused(f);
  expect(e.code).toBe(code);
  expect(e.message).toContain(shows);
}

const machine = () => {
  const k = kit({ arch: 'x86_64', cpus: 2 });
  k.m.loadCode({ origin: k.layout.text, bytes: new Uint8Array([0xf4]) });
  return k;
};

describe('bad input gets a typed error naming the bad value', () => {
  it('read and readBytes sizes', () => {
    const { m, layout } = machine();
    for (const size of [-1, 0, 3, 16, NaN]) expectRefused(() => m.read(layout.data, size as 1), 'KERNSIM_CPU_BAD_ARGUMENT', String(size));
    for (const length of [-1, 1.5, NaN, 2 ** 40]) expectRefused(() => m.readBytes(layout.data, length), 'KERNSIM_CPU_BAD_ARGUMENT', String(length));
    expect(m.readBytes(layout.data, 0)).toEqual(new Uint8Array(0));
    expect(m.read(layout.data, 8)).toBe(0n);
  });

  it('write values that do not fit, and bytes outside 0..255', () => {
    const { m, layout } = machine();
    expectRefused(() => { m.write(layout.data, 1, 256n); }, 'KERNSIM_CPU_BAD_ARGUMENT', '256n');
    expectRefused(() => { m.write(layout.data, 4, 1n << 32n); }, 'KERNSIM_CPU_BAD_ARGUMENT', '4294967296n');
    expectRefused(() => { m.write(layout.data, 2, -32769n); }, 'KERNSIM_CPU_BAD_ARGUMENT', '-32769n');
    expectRefused(() => { m.write(layout.data, 8, 5 as unknown as bigint); }, 'KERNSIM_CPU_BAD_ARGUMENT', 'got 5');
    expectRefused(() => { m.write(layout.data, 3 as 4, 1n); }, 'KERNSIM_CPU_BAD_ARGUMENT', 'got 3');
    for (const b of [256, -1, 1.5, NaN]) expectRefused(() => { m.writeBytes(layout.data, [1, b]); }, 'KERNSIM_CPU_BAD_ARGUMENT', `[1]`);
    // Nothing was written by the refused calls; values that fit (two's complement included) are.
    expect(m.read(layout.data, 8)).toBe(0n);
    m.write(layout.data, 2, -1n);
    expect(m.read(layout.data, 2)).toBe(0xffffn);
  });

  it('setReg and rip want bigints that fit the register', () => {
    const { m } = machine();
    const cpu = m.cpus[0]!;
    expectRefused(() => { cpu.setReg('rax', 5 as unknown as bigint); }, 'KERNSIM_CPU_BAD_ARGUMENT', 'got 5');
    expectRefused(() => { cpu.setReg('rax', 1n << 64n); }, 'KERNSIM_CPU_BAD_ARGUMENT', '18446744073709551616n');
    expectRefused(() => { cpu.setReg('eax', 1n << 32n); }, 'KERNSIM_CPU_BAD_ARGUMENT', '4294967296n');
    expectRefused(() => { cpu.rip = 7 as unknown as bigint; }, 'KERNSIM_CPU_BAD_ARGUMENT', 'got 7');
    cpu.setReg('rax', -1n);
    expect(cpu.reg('rax')).toBe((1n << 64n) - 1n);
  });

  it('restore of {}, null, or a snapshot of another arch or memory size', () => {
    const { m } = machine();
    expectRefused(() => { m.restore({} as never); }, 'KERNSIM_CPU_SNAPSHOT', 'an object with keys []');
    expectRefused(() => { m.restore(null as never); }, 'KERNSIM_CPU_SNAPSHOT', 'null');
    const i386 = kit({ arch: 'i386', cpus: 2 });
    expectRefused(() => { m.restore(i386.m.snapshot()); }, 'KERNSIM_CPU_SNAPSHOT', 'arch i386');
    const small = createMachine({ arch: 'x86_64', cpus: 2, memoryMiB: 64 });
    expectRefused(() => { m.restore(small.snapshot()); }, 'KERNSIM_CPU_SNAPSHOT', 'memoryMiB 64');
    const flat = createMachine({ arch: 'x86_64', cpus: 2, timing: 'flat' });
    expectRefused(() => { m.restore(flat.snapshot()); }, 'KERNSIM_CPU_SNAPSHOT', 'timing flat');
  });

  it('start with a non-canonical RIP or a CPL other than 0 or 3', () => {
    const { m, layout, stackTop } = machine();
    expectRefused(() => { m.start(0, { rip: 0x0000800000000000n, rsp: stackTop(0) }); }, 'KERNSIM_CPU_BAD_ARGUMENT', '0x800000000000');
    expectRefused(() => { m.start(0, { rip: layout.text, rsp: stackTop(0), cpl: 1 as 0 }); }, 'KERNSIM_CPU_BAD_ARGUMENT', 'got 1');
    expect(m.cpus[0]!.status).toBe('offline');
  });

  it('vectors outside 0..255 or not integers, and gate types the model does not have', () => {
    const { m, layout } = machine();
    for (const v of [-1, 256, 1.5, NaN]) {
      expectRefused(() => { m.cpus[0]!.setTimer(100, v); }, 'KERNSIM_CPU_BAD_ARGUMENT', String(v));
      expectRefused(() => { m.setGate(v, { handler: layout.text }); }, 'KERNSIM_CPU_BAD_ARGUMENT', String(v));
    }
    expectRefused(() => { m.setGate(3, { handler: layout.text, type: 'task' as 'trap' }); }, 'KERNSIM_CPU_BAD_ARGUMENT', '"task"');
  });

  it('map with a misaligned or negative physical address', () => {
    const { m } = machine();
    expectRefused(() => { m.map(0xffffffff90000000n, 4096, { phys: 0x1001n }); }, 'KERNSIM_CPU_BAD_ARGUMENT', '4097n');
    expectRefused(() => { m.map(0xffffffff90000000n, 4096, { phys: -4096n }); }, 'KERNSIM_CPU_BAD_ARGUMENT', '-4096n');
    expect(m.translate(0xffffffff90000000n)).toBeUndefined();
  });

  it('watch and onExecute lengths that are not positive integers', () => {
    const { m, layout } = machine();
    for (const n of [0, -8, NaN, 1.5]) {
      expectRefused(() => { m.watch(layout.data, n, 'x'); }, 'KERNSIM_CPU_BAD_ARGUMENT', String(n));
      expectRefused(() => m.onExecute(layout.text, n, () => undefined), 'KERNSIM_CPU_BAD_ARGUMENT', String(n));
    }
  });

  it('an unknown scheduler kind, or random chances outside 0..1', () => {
    const { m } = machine();
    expectRefused(() => m.run({ scheduler: { kind: 'fifo' } as unknown as Scheduler }), 'KERNSIM_CPU_BAD_ARGUMENT', '"fifo"');
    expectRefused(() => m.run({ scheduler: { kind: 'random', nmiChance: 2 } }), 'KERNSIM_CPU_BAD_ARGUMENT', 'got 2');
    expectRefused(() => m.run({ scheduler: { kind: 'replay' } as unknown as Scheduler }), 'KERNSIM_CPU_SCHEDULE', 'undefined');
    expect(m.schedule()).toEqual([]);
  });

  it('stackView over a huge range is refused (page through it instead)', () => {
    const { m, stackTop } = machine();
    expectRefused(() => m.stackView(0, 0n, 1n << 40n), 'KERNSIM_CPU_BAD_ARGUMENT', 'at most 65536');
    expect(m.stackView(0, stackTop(0) - 64n, stackTop(0))).toHaveLength(8);
  });

  it('hashWords wants room for both words', () => {
    const { m } = machine();
    expectRefused(() => {
      m.hashWords(new Int32Array(1));
    }, 'KERNSIM_CPU_BAD_ARGUMENT', 'at least 2');
    expectRefused(() => {
      m.hashWords([0, 0] as unknown as Int32Array);
    }, 'KERNSIM_CPU_BAD_ARGUMENT', 'Int32Array');
    const out = new Int32Array(2);
    m.hashWords(out);
    expect(m.hash()).toContain((out[0]! >>> 0).toString(16).padStart(8, '0'));
  });

  it('memoryHashWords wants room for both words, and is the memory part hashWords gives', () => {
    const { m, asm, layout, stackTop } = kit({ arch: 'x86_64', cpus: 1 });
    expectRefused(() => {
      m.memoryHashWords(new Int32Array(1));
    }, 'KERNSIM_CPU_BAD_ARGUMENT', 'at least 2');
    const a = asm();
    a.label('start').add(reg.rax, imm(1)).mov(qword(layout.data), reg.rax).hlt();
    m.loadCode(a.assemble());
    m.start(0, { rip: 'start', rsp: stackTop(0) });
    const full = new Int32Array(4);
    const mem = new Int32Array(2);
    const words = (): number[] => {
      m.hashWords(full);
      m.memoryHashWords(mem);
      expect([mem[0], mem[1]]).toEqual([full[2], full[3]]);
      return [mem[0]!, mem[1]!];
    };
    const start = words();
    m.step(0); // a register changes, memory does not
    expect(words()).toEqual(start);
    m.step(0); // the store
    expect(words()).not.toEqual(start);
  });

  it('timing options', () => {
    expectRefused(() => createMachine({ arch: 'x86_64', cpus: 1, timing: 'exact' as 'flat' }), 'KERNSIM_CPU_CONFIG', '"exact"');
    expectRefused(() => createMachine({ arch: 'x86_64', cpus: 1, timing: 'modelled', cyclesPerInstruction: 2 }), 'KERNSIM_CPU_CONFIG', '(2)');
    expectRefused(() => createMachine({ arch: 'x86_64', cpus: 1, costs: { cpuid: -1 } }), 'KERNSIM_CPU_CONFIG', '-1');
    expectRefused(() => createMachine({ arch: 'x86_64', cpus: 1, costs: { nosuch: 1 } as never }), 'KERNSIM_CPU_CONFIG', 'nosuch');
    expectRefused(() => createMachine({ arch: 'x86_64', cpus: 1, topology: { cpusPerSocket: 0 } }), 'KERNSIM_CPU_CONFIG', 'got 0');
    expectRefused(() => createMachine({ arch: 'x86_64', cpus: 1, crossModifyingCode: 'ignore' as 'fault' }), 'KERNSIM_CPU_CONFIG', '"ignore"');
  });
});

describe('property: any bad value is refused with a typed error and changes nothing', () => {
  const notSize = fc.oneof(fc.integer({ min: -1000, max: 1000 }).filter((n) => ![1, 2, 4, 8].includes(n)), fc.double(), fc.constant(NaN));
  const notByte = fc.oneof(fc.integer().filter((n) => n < 0 || n > 255), fc.double({ noInteger: true }), fc.constant(NaN));
  const notVector = fc.oneof(fc.integer().filter((n) => n < 0 || n > 255), fc.double({ noInteger: true }), fc.constant(NaN));
  const notLength = fc.oneof(fc.integer({ max: 0 }), fc.double({ noInteger: true }), fc.constant(NaN));

  it('holds for sizes, bytes, vectors, lengths and values', () => {
    const { m, layout } = machine();
    const before = m.hash();
    fc.assert(
      fc.property(notSize, notByte, notVector, notLength, fc.bigInt({ min: 1n << 64n, max: 1n << 80n }), (size, b, v, len, big) => {
        expect(refused(() => m.read(layout.data, size as 1)).code).toBe('KERNSIM_CPU_BAD_ARGUMENT');
        expect(refused(() => { m.writeBytes(layout.data, [0, b]); }).code).toBe('KERNSIM_CPU_BAD_ARGUMENT');
        expect(refused(() => { m.cpus[1]!.setTimer(50, v); }).code).toBe('KERNSIM_CPU_BAD_ARGUMENT');
        expect(refused(() => { m.setGate(v, { handler: layout.text }); }).code).toBe('KERNSIM_CPU_BAD_ARGUMENT');
        expect(refused(() => { m.watch(layout.data, len, 'w'); }).code).toBe('KERNSIM_CPU_BAD_ARGUMENT');
        expect(refused(() => { m.write(layout.data, 8, big); }).message).toContain(`${big}n`);
        expect(refused(() => { m.cpus[0]!.setReg('rbx', -big); }).code).toBe('KERNSIM_CPU_BAD_ARGUMENT');
        expect(m.hash()).toBe(before);
      }),
      { numRuns: 200, seed: 16 },
    );
  });
});
