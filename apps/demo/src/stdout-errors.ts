import type { EventEmitter } from 'node:events';

/** Codes of a write to a reader that went away (`kernsim | head -1`), and of the writes after it. */
const CLOSED = new Set(['EPIPE', 'ERR_STREAM_DESTROYED']);

/**
 * Node reports a failed write to stdout as an 'error' event, which unhandled is a stack
 * trace. A reader that closed the pipe wanted no more: that is ignored, so the rest of the
 * run (an `--html` file) still completes. Any other failure (`> /dev/full`) lost the
 * report: one line on stderr and exit 1, never a silent success.
 */
export function handleStdoutErrors(
  stdout: EventEmitter,
  stderr: { write(text: string): unknown },
  exit: (code: number) => void,
): void {
  stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== undefined && CLOSED.has(error.code)) return;
    // "ENOSPC: no space left on device, write" → "no space left on device".
    const reason = error.message.replace(/^[A-Z0-9_]+: /, '').replace(/, write$/, '');
    stderr.write(`kernsim: cannot write to standard output: ${reason.split('\n')[0] ?? reason}\n`);
    exit(1);
  });
}
