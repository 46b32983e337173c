const utf8 = new TextDecoder('utf-8', { fatal: true });
const latin1 = new TextDecoder('latin1');

/**
 * Bytes that are not valid UTF-8 are decoded as Latin-1 (line by line): every byte maps
 * to one character, so names survive instead of turning into U+FFFD, and old histories
 * written in Latin-1 read correctly.
 */
export function decodeLine(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    return latin1.decode(bytes);
  }
}

function decodeBlock(bytes: Uint8Array): string[] {
  try {
    // Fast path: the whole block is valid UTF-8.
    return utf8.decode(bytes).split('\n');
  } catch {
    const lines: string[] = [];
    let start = 0;
    for (;;) {
      const end = bytes.indexOf(10, start);
      if (end < 0) {
        lines.push(decodeLine(bytes.subarray(start)));
        return lines;
      }
      lines.push(decodeLine(bytes.subarray(start, end)));
      start = end + 1;
    }
  }
}

/** Splits a byte stream into lines incrementally; holds at most one partial line. */
export class LineDecoder {
  private pending: Uint8Array = new Uint8Array(0);

  /** Feeds a chunk; calls `onLine` for each complete line (without its `\n`). */
  push(chunk: Uint8Array, onLine: (line: string) => void): void {
    const last = chunk.lastIndexOf(10);
    if (last < 0) {
      this.pending = concat(this.pending, chunk);
      return;
    }
    let start = 0;
    if (this.pending.length > 0) {
      // Only the line that straddles two chunks is copied; the rest is decoded in place.
      const first = chunk.indexOf(10);
      onLine(stripCr(decodeLine(concat(this.pending, chunk.subarray(0, first)))));
      start = first + 1;
    }
    if (start <= last) {
      for (const line of decodeBlock(chunk.subarray(start, last))) onLine(stripCr(line));
    }
    this.pending = chunk.slice(last + 1);
  }

  /** Flushes a last line that had no newline. */
  end(onLine: (line: string) => void): void {
    if (this.pending.length > 0) onLine(stripCr(decodeLine(this.pending)));
    this.pending = new Uint8Array(0);
  }
}

function stripCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
