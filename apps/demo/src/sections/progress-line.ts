import type { SectionContext } from './section.js';

/**
 * One line of progress on stderr, `prefix: text`, rewritten in place by each call and cleared
 * by `undefined`; only where stderr is a terminal, so pipes, files and `--json` runs get none.
 */
export function progressLine(stderr: SectionContext['stderr'] | undefined, prefix: string): (text: string | undefined) => void {
  if (stderr?.isTTY !== true) return () => undefined;
  return (text) => stderr.write(text === undefined ? '\r\x1b[K' : `\r\x1b[K${prefix}: ${text}`);
}
