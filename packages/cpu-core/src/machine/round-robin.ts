import type { CpuState } from './cpu.js';
import { burst, runnable, step } from './exec.js';
import type { ScheduleLog } from './schedule.js';

/** Where the round-robin scheduler resumes (kept on the machine, saved in snapshots). */
export interface RoundRobinState {
  rr: number;
}

export type RoundRobinStop = 'steps' | 'until' | 'idle';

/**
 * The round-robin scheduler's loop, kept free of per-step allocation and lookups: it walks
 * the CPU array from where it stopped, skips CPUs that cannot progress, and gives each
 * runnable CPU `quantum` steps (in a burst when no `until` predicate has to be checked).
 * Returns the steps taken in `out.steps`.
 */
export function runRoundRobin(
  cpus: readonly CpuState[],
  log: ScheduleLog,
  state: RoundRobinState,
  max: number,
  quantum: number,
  until: (() => boolean) | undefined,
  out: { steps: number },
): RoundRobinStop {
  const n = cpus.length;
  let s = 0;
  let rr = state.rr;
  try {
    while (s < max) {
      if (until !== undefined) {
        // The predicate may snapshot the machine: the resume point must be this step's.
        state.rr = rr;
        if (until()) return stop(out, s, 'until');
      }
      let i = rr;
      let c = cpus[i]!;
      if (!runnable(c)) {
        let k = 1;
        for (; k < n; k++) {
          i = i + 1 === n ? 0 : i + 1;
          c = cpus[i]!;
          if (runnable(c)) break;
        }
        if (k === n) return stop(out, s, 'idle');
      }
      rr = i + 1 === n ? 0 : i + 1;
      const q = n === 1 && until === undefined ? max - s : Math.min(quantum, max - s);
      if (q === 1) {
        log.step(i);
        step(c);
        s++;
      } else if (until === undefined) {
        const done = burst(c, q);
        log.record(i, done);
        s += done;
      } else {
        for (let d = 0; d < q; d++) {
          if (d > 0) {
            // Mid-quantum a snapshot resumes at the next CPU, as a run that stopped here would.
            state.rr = rr;
            if (until() || !runnable(c)) break;
          }
          log.step(i);
          step(c);
          s++;
        }
      }
    }
    return stop(out, s, 'steps');
  } finally {
    state.rr = rr;
  }
}

function stop(out: { steps: number }, s: number, reason: RoundRobinStop): RoundRobinStop {
  out.steps = s;
  return reason;
}
