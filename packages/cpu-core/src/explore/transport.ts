import { sameChoice } from './model.js';
import type { Choice } from './model.js';
import type { JobOutcome, SearchJob } from './plan.js';

// What crosses between the pool and its workers. A job's prefix is hundreds of choices deep in
// an NMI window (mostly one CPU's steps), and every job sends one prefix out and its frontier's
// back: as JSON arrays of objects that is most of the traffic, so prefixes travel run-length
// encoded (`s0*120,e0:nmi,s0*31`). The jobs themselves (checkpoints, `SearchPlan`) keep arrays.

export interface PackedJob {
  readonly key: string;
  readonly prefix: string;
}

export interface PackedOutcome extends Omit<JobOutcome, 'frontier'> {
  readonly frontier: readonly PackedJob[];
  /** How long the worker searched (its statistics; not part of the outcome). */
  readonly searchMs?: number;
}

function code(c: Choice): string {
  return c.kind === 'step' ? `s${c.cpu}` : `e${c.cpu}:${encodeURIComponent(c.source).replaceAll('*', '%2A')}`;
}

function choice(code: string): Choice {
  if (code.startsWith('s')) return { kind: 'step', cpu: Number(code.slice(1)) };
  const colon = code.indexOf(':');
  return { kind: 'event', source: decodeURIComponent(code.slice(colon + 1)), cpu: Number(code.slice(1, colon)) };
}

export function packPrefix(prefix: readonly Choice[]): string {
  const out: string[] = [];
  for (let i = 0; i < prefix.length; ) {
    // Runs are found by comparing choices, and each run's code is built once (a prefix is hundreds of choices, a few runs).
    const first = prefix[i]!;
    let n = 1;
    while (i + n < prefix.length && sameChoice(prefix[i + n]!, first)) n++;
    const c = code(first);
    out.push(n > 1 ? `${c}*${n}` : c);
    i += n;
  }
  return out.join(',');
}

export function unpackPrefix(text: string): Choice[] {
  const out: Choice[] = [];
  if (text === '') return out;
  for (const run of text.split(',')) {
    const star = run.lastIndexOf('*');
    const c = choice(star < 0 ? run : run.slice(0, star));
    const n = star < 0 ? 1 : Number(run.slice(star + 1));
    for (let k = 0; k < n; k++) out.push(c);
  }
  return out;
}

/** The packed prefix a job arrived with: the pool hands it to a worker again as it came, not packed anew. */
const packed = new WeakMap<SearchJob, string>();

export const packJob = (j: SearchJob): PackedJob => ({ key: j.key, prefix: packed.get(j) ?? packPrefix(j.prefix) });
/**
 * A job as it arrived, its prefix unpacked when first read: most jobs a worker hands back go
 * back to that worker in the text they came in (an NMI window's prefixes are thousands of
 * choices deep: unpacked, the queue of the all-starts search held hundreds of MB of arrays).
 */
export const unpackJob = (j: PackedJob): SearchJob => {
  let prefix: Choice[] | undefined;
  const job: SearchJob = {
    key: j.key,
    get prefix(): Choice[] {
      return (prefix ??= unpackPrefix(j.prefix));
    },
  };
  packed.set(job, j.prefix);
  return job;
};
export const packOutcome = (o: JobOutcome): PackedOutcome => ({ ...o, frontier: o.frontier.map(packJob) });
export const unpackOutcome = (o: PackedOutcome): JobOutcome => {
  const out: JobOutcome & { searchMs?: number } = { ...o, frontier: o.frontier.map(unpackJob) };
  delete out.searchMs;
  return out;
};
