// Regenerates the golden corpus: random user-level instruction sequences run on this
// machine's CPU by harness.c (built here with gcc; `gcc -m32` for 32-bit protected mode).
// Usage: pnpm --filter @kernsim/cpu-core oracle [casesPerForm] [seed]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { baseRegs, CORPUS_PATH, encodeCase, Rng } from '../../src/testing/golden.js';
import type { GoldenCase } from '../../src/testing/golden.js';
import { DATA, encodeForm, encodeString, oracleForms } from './forms.js';
import type { Form, Overrides } from './forms.js';

const IN_SIZE = 208;
const OUT_SIZE = 8 + 128 + 8 + 512 + 256;
const here = new URL('.', import.meta.url).pathname;

function buildHarness(dir: string, bitness: 32 | 64): string {
  const exe = join(dir, `harness${bitness}`);
  const flags = bitness === 32 ? ['-m32', '-no-pie'] : [];
  try {
    execFileSync('gcc', [...flags, '-O1', '-o', exe, join(here, 'harness.c')], { stdio: ['ignore', 'ignore', 'inherit'] });
  } catch {
    const hint = bitness === 32 ? ' (32-bit mode needs gcc-multilib: apt-get install gcc-multilib)' : '';
    console.error(`oracle: cannot build the ${bitness}-bit harness with gcc${hint}`);
    process.exit(1);
  }
  return exe;
}

/** Fields that shape the registers a form needs: counts, dividends, frame pointers. */
function tune(rng: Rng, form: Form, regs: Overrides): void {
  const name = form.name;
  if (/^(Shl|Shr|Sar|Rol|Ror|Rcl|Rcr|Shld|Shrd|Sal)/.test(name) && rng.chance(0.7) && !regs.has(1)) regs.set(1, BigInt(rng.int(70)));
  if (/^(Div|Idiv)/.test(name) && rng.chance(0.6)) regs.set(2, rng.chance(0.5) ? 0n : rng.chance(0.5) ? BigInt(rng.int(4)) : 0xffffffffffffffffn);
  if (/^(Enter|Leave)/.test(name)) regs.set(5, DATA + 0x700n + BigInt(rng.int(0x100) & ~7));
  if (/^(Loop|Jrcxz|Jecxz)/.test(name) && rng.chance(0.5)) regs.set(1, BigInt(rng.int(3)));
  if (/^Cmpxchg(8|16)b/.test(name) && rng.chance(0.5)) regs.set(0, -1n);
}

function makeCase(rng: Rng, bitness: 32 | 64, forms: readonly Form[], form: Form | undefined, seed: number): GoldenCase | undefined {
  const regs: Overrides = new Map();
  const bytes: number[] = [];
  let ip = 0x20000000n;
  const count = form === undefined ? 1 : rng.chance(0.25) ? 2 + rng.int(2) : 1;
  for (let i = 0; i < count; i++) {
    const f = i === 0 ? form : rng.pick(forms);
    let b: Uint8Array | undefined;
    if (f === undefined) b = encodeString(rng, bitness, regs);
    else {
      tune(rng, f, regs);
      b = encodeForm(rng, f, bitness, ip, regs);
      if (b && f.lock && rng.chance(0.3)) b = Uint8Array.from([0xf0, ...b]);
    }
    if (!b) return i === 0 ? undefined : { bitness, code: Uint8Array.from(bytes), seed, flags: 0, regs };
    bytes.push(...b);
    ip += BigInt(b.length);
  }
  const flags = (rng.next() & 0x8d5) | (rng.chance(0.2) ? 0x400 : 0);
  return { bitness, code: Uint8Array.from(bytes), seed, flags, regs };
}

function run(exe: string, cases: GoldenCase[]): Buffer {
  const input = Buffer.alloc(cases.length * IN_SIZE);
  cases.forEach((k, n) => {
    const o = n * IN_SIZE;
    input[o] = k.code.length;
    input.set(k.code, o + 1);
    const regs = baseRegs(k.seed, k.bitness);
    for (const [i, v] of k.regs) regs[i] = BigInt.asUintN(k.bitness, v);
    for (let i = 0; i < 16; i++) input.writeBigUInt64LE(regs[i]!, o + 64 + i * 8);
    input.writeBigUInt64LE(BigInt(k.flags | 2), o + 192);
    input.writeUInt32LE(k.seed, o + 200);
  });
  const r = spawnSync(exe, { input, maxBuffer: 1 << 30 });
  if (r.status !== 0) {
    console.error(`oracle: the harness failed (status ${r.status ?? 'signal'}): ${r.stderr.toString().trim()}`);
    process.exit(1);
  }
  return r.stdout;
}

function attachResults(cases: GoldenCase[], out: Buffer): void {
  cases.forEach((k, n) => {
    const o = n * OUT_SIZE;
    const vector = out.readInt32LE(o);
    const base = baseRegs(k.seed, k.bitness);
    for (const [i, v] of k.regs) base[i] = BigInt.asUintN(k.bitness, v);
    const regsOut = new Map<number, bigint>();
    const diffs: [number, number][] = [];
    if (vector < 0) {
      for (let i = 0; i < (k.bitness === 64 ? 16 : 8); i++) {
        const v = BigInt.asUintN(k.bitness, out.readBigUInt64LE(o + 8 + i * 8));
        if (v !== base[i]) regsOut.set(i, v);
      }
      const nd = Math.min(out.readUInt32LE(o + 4), 256);
      for (let d = 0; d < nd; d++) diffs.push([out.readUInt16LE(o + 144 + d * 2), out[o + 656 + d]!]);
    }
    k.expect = { vector, regs: regsOut, flags: vector < 0 ? Number(out.readBigUInt64LE(o + 136) & 0xcd5n) : 0, diffs };
  });
}

const perForm = Number(process.argv[2] ?? 40);
const rng = new Rng(Number(process.argv[3] ?? 17));
const dir = mkdtempSync(join(tmpdir(), 'kernsim-oracle-'));
const lines: string[] = [];
for (const bitness of [64, 32] as const) {
  const exe = buildHarness(dir, bitness);
  const forms = oracleForms(bitness);
  const cases: GoldenCase[] = [];
  let seed = bitness * 1000003;
  // perForm cases per form, then string instructions (any width, prefix and address size).
  const plan: (Form | undefined)[] = [...forms, ...Array<undefined>(40).fill(undefined)];
  for (const form of plan) {
    for (let i = 0; i < perForm; i++) {
      const k = makeCase(rng, bitness, forms, form, (seed = (seed + 0x9e3779b9) >>> 0));
      if (k) cases.push(k);
    }
  }
  attachResults(cases, run(exe, cases));
  for (const k of cases) lines.push(encodeCase(k));
  console.log(`${bitness}-bit: ${forms.length} forms, ${cases.length} cases`);
}
writeFileSync(new URL(CORPUS_PATH, new URL('../../', import.meta.url)), gzipSync(lines.join('\n'), { level: 9 }));
console.log(`wrote ${lines.length} cases to ${CORPUS_PATH}`);
// The README table counts the new corpus.
await import('./readme.js');
