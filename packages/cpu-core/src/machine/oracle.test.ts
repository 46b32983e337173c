// The golden corpus (tools/oracle): sequences a real CPU ran, replayed on the machine.
// Every register, the arithmetic flags and DF, the data page and the fault vector must match.
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { baseRegs, casesPerForm, CODE, DATA, dataPage, FLAG_MASK, formsOf, loadCorpus } from '../testing/golden.js';
import { isaTable, TABLE_END, TABLE_START } from '../testing/isa-readme.js';
import type { GoldenCase } from '../testing/golden.js';
import type { RegName } from './cpu-view.js';
import { createMachine } from './machine.js';
import type { Machine } from './machine.js';

const NAMES: readonly RegName[] = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];
const NAMES32: readonly RegName[] = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'];

function machineFor(bitness: 32 | 64): Machine {
  const m = createMachine({ arch: bitness === 64 ? 'x86_64' : 'i386', cpus: 1, recordSchedule: false });
  m.map(DATA, 4096, { user: true, writable: true });
  m.map(CODE, 4096, { user: true });
  // Exceptions go to a kernel `hlt` on a kernel stack, so the trace reports the vector raised.
  const text = bitness === 64 ? 0xffffffff81000000n : 0xe1000000n;
  m.map(text, 0x3000);
  m.writeBytes(text, [0xf4]);
  for (let v = 0; v < 32; v++) m.setGate(v, { handler: text });
  return m;
}

/** Runs one case; returns a description of the first difference from the CPU's result, or undefined. */
function runCase(m: Machine, k: GoldenCase): string | undefined {
  const e = k.expect!;
  const names = k.bitness === 64 ? NAMES : NAMES32;
  const regs = baseRegs(k.seed, k.bitness);
  for (const [i, v] of k.regs) regs[i] = BigInt.asUintN(k.bitness, v);
  const page = dataPage(k.seed);
  m.writeBytes(DATA, page);
  m.writeBytes(CODE, k.code);
  m.start(0, { rip: CODE, rsp: regs[4]!, cpl: 3 });
  const cpu = m.cpus[0]!;
  cpu.setTss({ sp0: (k.bitness === 64 ? 0xffffffff81000000n : 0xe1000000n) + 0x3000n });
  names.forEach((n, i) => {
    cpu.setReg(n, regs[i]!);
  });
  cpu.rflags = BigInt(k.flags | 2);
  const end = CODE + BigInt(k.code.length);
  m.startTrace({ kinds: ['fault'], limit: 1 });
  for (let n = 0; n < 64 && cpu.rip !== end && m.trace.length === 0; n++) m.step(0);
  const first = m.trace[0];
  m.stopTrace();
  const fault = first?.kind === 'fault' ? first.vector : -1;
  if (fault !== e.vector) return `fault vector ${fault}, CPU ${e.vector}${first?.kind === 'fault' ? ` (${first.reason})` : ''}`;
  if (fault >= 0) return undefined;
  const diffs: string[] = [];
  names.forEach((n, i) => {
    const want = e.regs.get(i) ?? regs[i]!;
    const got = BigInt.asUintN(k.bitness, cpu.reg(n));
    if (got !== want) diffs.push(`${n} ${got.toString(16)} != CPU ${want.toString(16)}`);
  });
  const flags = Number(cpu.rflags) & FLAG_MASK;
  if (flags !== e.flags) diffs.push(`flags ${flags.toString(16)} != CPU ${e.flags.toString(16)} (in ${k.flags.toString(16)})`);
  for (const [o, v] of e.diffs) page[o] = v;
  const now = m.readBytes(DATA, 4096);
  for (let o = 0; o < 4096; o++) if (now[o] !== page[o]) diffs.push(`data[${o.toString(16)}] ${now[o]!.toString(16)} != CPU ${page[o]!.toString(16)}`);
  return diffs.length > 0 ? diffs.slice(0, 6).join('; ') : undefined;
}

/** Cases per test: each chunk stays far inside the test timeout on a loaded host. */
const CHUNK = 3000;

describe('golden corpus from a real CPU (tools/oracle)', () => {
  const cases = loadCorpus();
  const perForm = casesPerForm(cases);

  afterAll(() => {
    for (const mode of [0, 1] as const) {
      const rows = [...perForm].filter(([, n]) => n[mode] > 0).sort((a, b) => a[0].localeCompare(b[0]));
      const total = cases.filter((k) => k.bitness === (mode === 0 ? 64 : 32)).length;
      console.log(`${mode === 0 ? 64 : 32}-bit golden cases: ${total} over ${rows.length} forms\n  ${rows.map(([f, n]) => `${f} ${n[mode]}`).join('\n  ')}`);
    }
  });

  for (const bitness of [64, 32] as const) {
    const mine = cases.filter((k) => k.bitness === bitness);
    for (let from = 0; from < mine.length; from += CHUNK) {
      const chunk = mine.slice(from, from + CHUNK);
      it(`${bitness}-bit cases ${from + 1}-${from + chunk.length} match the CPU`, () => {
        const m = machineFor(bitness);
        const failures: string[] = [];
        for (const k of chunk) {
          const bad = runCase(m, k);
          if (bad !== undefined) failures.push(`${Buffer.from(k.code).toString('hex')} [${formsOf(k).join(' ')}]: ${bad}`);
        }
        expect(failures.slice(0, 40), `${failures.length} of ${chunk.length} cases differ`).toEqual([]);
      });
    }
  }

  it('covers both modes with tens of thousands of cases', () => {
    expect(cases.filter((k) => k.bitness === 64).length).toBeGreaterThan(10_000);
    expect(cases.filter((k) => k.bitness === 32).length).toBeGreaterThan(10_000);
  });

  it('the README table is the one the instruction table and the corpus generate', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const inReadme = readme.slice(readme.indexOf(TABLE_START), readme.indexOf(TABLE_END) + TABLE_END.length);
    expect(inReadme, 'run `pnpm --filter @kernsim/cpu-core isa-readme`').toBe(isaTable(perForm));
  });
});
