import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { handleStdoutErrors } from './stdout-errors.js';

const TSX = join(import.meta.dirname, '..', 'node_modules', '.bin', 'tsx');
const BIN = join(import.meta.dirname, 'bin.ts');

/** Runs the real `kernsim` with stdout on `stdout` ('pipe' is closed before anything is written). */
function kernsim(args: readonly string[], stdout: 'pipe' | number): Promise<{ code: number | null; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, ['--conditions=@kernsim/source', BIN, ...args], { stdio: ['ignore', stdout, 'pipe'] });
    // The reader goes away at once, like `| head -1` that already has its line.
    child.stdout?.destroy();
    let err = '';
    child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      resolve({ code, err });
    });
  });
}

describe('writes to a standard output that fails', () => {
  it('a closed pipe (| head) ends quietly with exit 0: no stack trace', async () => {
    const r = await kernsim(['about'], 'pipe');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
  }, 60_000);

  it.skipIf(!existsSync('/dev/full'))('a full disk is one line on stderr and exit 1, not a stack trace', async () => {
    const fd = openSync('/dev/full', 'w');
    try {
      const r = await kernsim(['about'], fd);
      expect(r.err).toBe('kernsim: cannot write to standard output: no space left on device\n');
      expect(r.code).toBe(1);
    } finally {
      closeSync(fd);
    }
  }, 60_000);

  it('ignores the writes after a closed pipe, and exits on any other error', () => {
    const stdout = new EventEmitter();
    let err = '';
    const exits: number[] = [];
    handleStdoutErrors(stdout, { write: (text: string) => (err += text) }, (code) => exits.push(code));
    stdout.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    stdout.emit('error', Object.assign(new Error('Cannot call write after a stream was destroyed'), { code: 'ERR_STREAM_DESTROYED' }));
    expect(exits).toEqual([]);
    stdout.emit('error', Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' }));
    expect(err).toBe('kernsim: cannot write to standard output: i/o error\n');
    expect(exits).toEqual([1]);
  });
});
