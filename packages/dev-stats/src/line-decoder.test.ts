import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineDecoder } from './line-decoder.js';

function decodeAll(chunks: readonly Uint8Array[]): string[] {
  const lines: string[] = [];
  const decoder = new LineDecoder();
  for (const chunk of chunks) decoder.push(chunk, (line) => lines.push(line));
  decoder.end((line) => lines.push(line));
  return lines;
}

describe('LineDecoder', () => {
  it('keeps lines that are not UTF-8 by reading their bytes as Latin-1', () => {
    const bytes = Uint8Array.from([...Buffer.from('Author: J'), 0xfc, ...Buffer.from('rgen <j@x>\nnext é\n')]);
    expect(decodeAll([bytes])).toEqual(['Author: Jürgen <j@x>', 'next é']);
  });

  it('joins lines and multi-byte characters split across chunks', () => {
    const text = Buffer.from('één\ntwee\ndrie');
    const parts = [text.subarray(0, 1), text.subarray(1, 5), text.subarray(5, 9), text.subarray(9)];
    expect(decodeAll(parts)).toEqual(['één', 'twee', 'drie']);
  });
});

describe('LineDecoder chunking', () => {
  it('gives the same lines however the bytes are cut', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('a', 'é', '\n', '\n\n', 'x\r\n', 'ü'), { maxLength: 40 }), fc.array(fc.nat(60), { maxLength: 6 }), (pieces, cuts) => {
        const bytes = Buffer.from(pieces.join(''));
        const bounds = [0, ...[...cuts].sort((a, b) => a - b).map((c) => Math.min(c, bytes.length)), bytes.length];
        const chunks = bounds.slice(1).map((end, i) => bytes.subarray(bounds[i], end));
        const expected = pieces.join('').split('\n').map((l) => l.replace(/\r$/, ''));
        if (expected[expected.length - 1] === '') expected.pop();
        expect(decodeAll(chunks)).toEqual(expected);
      }),
    );
  });
});
