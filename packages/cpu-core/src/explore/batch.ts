import type { Machine } from '../machine/machine.js';
import type { FrontierCache } from './frontier-cache.js';
import { JobQueue } from './job-queue.js';
import { runJob } from './jobs.js';
import type { SearchOptions, Violation } from './model.js';
import { better } from './plan.js';
import type { JobOutcome, SearchJob } from './plan.js';
import type { VisitedSet } from './visited-set.js';

/**
 * Runs a batch of jobs, then the subtrees they hand back, in this thread, until `budget`
 * states were explored (at least one job runs) or none is left, and reports them as one
 * outcome: the subtrees not entered are its frontier — the batch's own jobs not started
 * among them, which the plan queues again — and the ones it entered beyond its own jobs are
 * `explored` (the plan marks their keys seen, so another thread does not take them up
 * again). A job is `chunk` levels, a few hundred states in an NMI window: one per pool
 * round trip cost more in messages than in search, and a worker waited for the next. A
 * batch is thousands of states, and still a plain job list and a number, so any runner can
 * take it.
 */
export function runBatch(machine: Machine, options: SearchOptions, jobs: readonly SearchJob[], chunk: number, budget: number, visited: VisitedSet, cache: FrontierCache): JobOutcome {
  const queue = new JobQueue(jobs);
  const known = new Set(jobs.map((j) => j.key));
  const explored: string[] = [];
  const found = new Map<string, Violation>();
  const sum = { states: 0, transitions: 0, schedules: 0, depth: 0, reducedNodes: 0, cut: false, bounded: false, reductionWithdrawn: false };
  let own = jobs.length;
  let ran = 0;
  while (queue.length > 0 && (ran++ === 0 || sum.states < budget)) {
    const job = queue.shift()!;
    if (own > 0) own--;
    else explored.push(job.key);
    const o = runJob(machine, options, job, chunk, visited, cache);
    sum.states += o.states;
    sum.transitions += o.transitions;
    sum.schedules += o.schedules;
    sum.depth = Math.max(sum.depth, o.depth);
    sum.reducedNodes += o.reducedNodes;
    sum.cut ||= o.cut;
    sum.bounded ||= o.bounded;
    sum.reductionWithdrawn ||= o.reductionWithdrawn;
    for (const v of o.violations) {
      const old = found.get(v.invariant);
      if (!old || better(v, old)) found.set(v.invariant, v);
    }
    for (const f of o.frontier) {
      if (known.has(f.key)) continue;
      known.add(f.key);
      queue.push(f);
    }
  }
  return { ...sum, violations: [...found.values()], frontier: queue.toArray(), explored };
}
