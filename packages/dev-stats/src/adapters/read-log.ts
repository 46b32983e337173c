import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { DevStatsError } from '../errors.js';
import { LineDecoder } from '../line-decoder.js';
import { type LogFormat, LogParser } from '../log-parser.js';
import type { CommitRecord } from '../model.js';
import { describeFsError } from './fs-errors.js';

/**
 * Feeds a stream to `onLine` line by line. git ends every log with a newline, so a last
 * line without one is a log cut short (a truncated copy, a full disk): rejected.
 */
export async function readLines(stream: Readable, onLine: (line: string) => void): Promise<void> {
  const decoder = new LineDecoder();
  let lines = 0;
  let last = 10;
  const line = (text: string): void => {
    lines++;
    onLine(text);
  };
  for await (const chunk of stream) {
    const bytes = chunk as Uint8Array;
    if (bytes.length > 0) last = bytes[bytes.length - 1] ?? 10;
    decoder.push(bytes, line);
  }
  if (last !== 10) {
    throw new DevStatsError('DEV_STATS_BAD_LOG', `line ${lines + 1}: the log ends in the middle of a line (cut short?)`);
  }
  decoder.end(line);
}

/** Parses a saved log from a stream as it arrives. */
export async function readLogStream(
  stream: Readable,
  onCommit: (commit: CommitRecord) => void,
  format: LogFormat = 'auto',
): Promise<void> {
  const parser = new LogParser(onCommit, format);
  await readLines(stream, (text) => {
    parser.line(text);
  });
  parser.end();
}

/** Opens a saved log (`-` is the given stdin) and hands its lines to `onLines`. */
export async function withLogStream(path: string, stdin: Readable | undefined, onLines: (stream: Readable) => Promise<void>): Promise<void> {
  const stream = path === '-' ? stdin : createReadStream(path);
  if (stream === undefined) throw new DevStatsError('DEV_STATS_UNREADABLE', 'no stdin to read the log from');
  try {
    await onLines(stream);
  } catch (error) {
    if (error instanceof DevStatsError) throw error;
    throw new DevStatsError('DEV_STATS_UNREADABLE', `cannot read log ${path}: ${describeFsError(error)}`, { cause: error });
  }
}

/** Parses a saved log file (`-` reads the given stdin stream). */
export async function readLogFile(
  path: string,
  onCommit: (commit: CommitRecord) => void,
  options: { readonly format?: LogFormat; readonly stdin?: Readable } = {},
): Promise<void> {
  await withLogStream(path, options.stdin, (stream) => readLogStream(stream, onCommit, options.format));
}
