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
