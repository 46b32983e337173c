import type { CpuNmiAccount } from './scenario-types.js';

/**
 * The identities every run's NMI figures must satisfy, checked per CPU. Each side is
 * counted somewhere else, so each can fail:
 *  - the hardware: `raised = delivered + mergedByHardware + pending` (cpu-core's latch
 *    counters against what is still pending);
 *  - the kernel: `handled = delivered - mergedBySoftware - lost + repeats` (the kernel's
 *    own count of handler runs against the merges, losses and reruns the run saw the entry
 *    decide, at its merge and repeat labels).
 * Returns one line per violated identity; empty when all hold.
 */
export function nmiAccountingErrors(r: { readonly nmis: { readonly perCpu: readonly CpuNmiAccount[] } }): string[] {
  const errors: string[] = [];
  for (const a of r.nmis.perCpu) {
    const hardware = a.delivered + a.mergedByHardware + a.pending;
    if (a.raised !== hardware) errors.push(`CPU ${a.cpu}: raised ${a.raised}, but delivered + merged by the latch + pending = ${hardware}`);
    const kernel = a.delivered - a.mergedBySoftware - a.lost + a.repeats;
    if (a.handled !== kernel) {
      errors.push(`CPU ${a.cpu}: ${a.handled} handler runs, but delivered - merged by the entry - lost + repeats = ${a.delivered} - ${a.mergedBySoftware} - ${a.lost} + ${a.repeats} = ${kernel}`);
    }
  }
  return errors;
}
