import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { DevStatsError } from '../errors.js';
import { LineDecoder } from '../line-decoder.js';
import { type LogFormat, LogParser } from '../log-parser.js';
import type { CommitRecord } from '../model.js';

/** Parses a saved log from a stream as it arrives. */
export async function readLogStream(
  stream: Readable,
  onCommit: (commit: CommitRecord) => void,
  format: LogFormat = 'auto',
): Promise<void> {
  const decoder = new LineDecoder();
  const parser = new LogParser(onCommit, format);
  const line = (text: string): void => { parser.line(text); };
  for await (const chunk of stream) {
    decoder.push(chunk as Uint8Array, line);
  }
  decoder.end(line);
  parser.end();
}

/** Parses a saved log file (`-` reads the given stdin stream). */
export async function readLogFile(
  path: string,
  onCommit: (commit: CommitRecord) => void,
  options: { readonly format?: LogFormat; readonly stdin?: Readable } = {},
): Promise<void> {
  const stream = path === '-' ? options.stdin : createReadStream(path);
  if (stream === undefined) throw new DevStatsError('DEV_STATS_UNREADABLE', 'no stdin to read the log from');
  try {
    await readLogStream(stream, onCommit, options.format);
  } catch (error) {
    if (error instanceof DevStatsError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new DevStatsError('DEV_STATS_UNREADABLE', `cannot read log ${path}: ${message}`, { cause: error });
  }
}
