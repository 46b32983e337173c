import type { Trailer, TrailerKind } from './model.js';

const KINDS: Readonly<Record<string, TrailerKind>> = {
  'signed-off-by': 'signoff',
  'reviewed-by': 'review',
  'tested-by': 'test',
  'reported-by': 'report',
  'reported-and-tested-by': 'report-test',
};

const HINT = /-by:/i;

// Like gitdm, any message line of this shape counts, not only git's final trailer block.
const TRAILER = /^\s*(signed-off-by|reviewed-by|tested-by|reported-by|reported-and-tested-by):\s*(.*?)\s*<([^>]*)>/i;

// syzbot and other robots report with a bare address; gitdm credits those too.
const BARE_REPORT = /^\s*reported-by:\s*([^\s<>"]+@[^\s<>"]+)\s*$/i;

/** Parses one message line into a credit, or undefined when it is not one. */
export function parseTrailer(line: string): Trailer | undefined {
  // Cheap test first: most message lines are prose.
  if (!HINT.test(line)) return undefined;
  const match = TRAILER.exec(line);
  if (match === null) {
    const bare = BARE_REPORT.exec(line);
    return bare === null ? undefined : { kind: 'report', name: bare[1] ?? '', email: bare[1] ?? '' };
  }
  const kind = KINDS[(match[1] ?? '').toLowerCase()];
  const email = (match[3] ?? '').trim();
  if (kind === undefined || email === '') return undefined;
  return { kind, name: (match[2] ?? '').replace(/^"(.*)"$/, '$1').trim(), email };
}
