import type { Io } from '../cli.js';

/** An Io that keeps what the CLI prints and writes in memory; `interrupt` presses Ctrl-C as soon as the CLI listens. */
export function captureIo(interrupt = false): { io: Io; out: () => string; err: () => string; files: Map<string, string> } {
  let out = '';
  let err = '';
  const files = new Map<string, string>();
  let t = 0;
  const io: Io = {
    stdout: { write: (text: string) => (out += text), isTTY: false },
    stderr: { write: (text: string) => (err += text) },
    env: { NO_COLOR: '1' },
    writeFile: (path, contents) => {
      files.set(path, contents);
      return Promise.resolve();
    },
    readFile: (path) => {
      const f = files.get(path);
      return f === undefined ? Promise.reject(new Error('ENOENT')) : Promise.resolve(f);
    },
    onInterrupt: (callback) => {
      if (interrupt) callback();
    },
    now: () => (t += 250),
  };
  return { io, out: () => out, err: () => err, files };
}
