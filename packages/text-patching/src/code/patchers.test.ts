import { describe, expect, it } from 'vitest';
import { buildImage } from './image.js';
import type { ImageOptions } from './image.js';

const base: ImageOptions = { arch: 'x86_64', user: 'ftrace', functions: 2, ftraceNmiProtocol: false, bpMode: 'skip', direction: 'on' };

/** The addresses `call run_sync` instructions (e8 rel32) in [from, to) return to. */
function syncCalls(options: ImageOptions, from: string, to: string): bigint[] {
  const image = buildImage(options);
  const { bytes, origin } = image.code;
  const target = image.symbol('run_sync');
  const out: bigint[] = [];
  for (let at = Number(image.symbol(from) - origin); at < Number(image.symbol(to) - origin); at++) {
    if (bytes[at] !== 0xe8) continue;
    const next = origin + BigInt(at + 5);
    if (next + BigInt(new DataView(bytes.buffer, bytes.byteOffset).getInt32(at + 1, true)) === target) out.push(next);
  }
  return out;
}

describe('omitSync', () => {
  it('left unset, builds the default image byte for byte', () => {
    // The type forbids an explicit undefined; a JavaScript caller (or a spread of untyped options) may still pass one.
    const unset = { ...base, omitSync: undefined } as unknown as ImageOptions;
    expect(buildImage(unset).code.bytes).toEqual(buildImage(base).code.bytes);
  });

  it('takes exactly one of the three syncs out of the batched and the per-site protocol', () => {
    expect(syncCalls(base, 'patch_breakpoint', 'poke_one_bp')).toHaveLength(3);
    expect(syncCalls(base, 'poke_one_bp', 'patch_breakpoint_each')).toHaveLength(3);
    for (const omitSync of ['int3', 'tail', 'head'] as const) {
      expect(syncCalls({ ...base, omitSync }, 'patch_breakpoint', 'poke_one_bp')).toHaveLength(2);
      expect(syncCalls({ ...base, omitSync }, 'poke_one_bp', 'patch_breakpoint_each')).toHaveLength(2);
    }
  });
});
