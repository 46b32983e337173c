import type { Finding } from '@kernsim/cpu-core/explore';
import type { Block, SectionReport } from '../report/model.js';

/** `kernsim explore --replay`'s report, for any explorer's counterexample: whether it reproduced, then its blocks. */
export function replayReport(saved: { readonly invariant: string; readonly start: string }, r: { readonly reproduced: boolean; readonly hash: string; readonly findings: readonly Finding[] }, blocks: readonly Block[]): SectionReport {
  return {
    id: 'explore',
    title: 'Explorer: replay',
    blocks: [
      { kind: 'paragraph', text: r.reproduced ? `Reproduced: ${saved.invariant} (state hash ${r.hash}).` : `Not reproduced: the invariants report ${r.findings.map((f) => f.invariant).join(', ') || 'nothing'} along this schedule.` },
      ...blocks,
    ],
    data: { verdict: r.reproduced ? 'reproduced' : 'not-reproduced', invariant: saved.invariant, start: saved.start, hash: r.hash, findings: r.findings },
  };
}
