import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StatsAccumulator } from './accumulator.js';
import { Attribution } from './attribution.js';
import { parseGitdmConfig } from './gitdm-config.js';
import { Mailmap } from './mailmap.js';
import type { CommitRecord, TrailerKind } from './model.js';
import { buildReport, type StatsReport } from './report.js';

const config = parseGitdmConfig('c', (file) =>
  file === 'c' ? 'EmailMap m\nVirtualEmployer Shared\n50 Alpha\n30 Beta\nend\n' : 'a.example Alpha < 2012-06-01\na.example Beta\nb.example Shared\nc.example (None)\n',
);
const mailmap = Mailmap.parse('Ann <ann@a.example> <ann@old.example>\n');

const people = fc.constantFrom(
  { name: 'Ann', email: 'ann@a.example' },
  { name: 'Ann', email: 'ann@old.example' },
  { name: 'Ben', email: 'ben@b.example' },
  { name: 'Cy', email: 'cy@c.example' },
  { name: 'Di', email: 'di@d.example' },
  { name: 'Di Other', email: 'di@d.example' },
);

const commitArb: fc.Arbitrary<CommitRecord> = fc.record({
  id: fc.string({ minLength: 1, maxLength: 8 }),
  merge: fc.boolean(),
  author: people,
  date: fc.constantFrom('2012-01-01', '2012-05-31', '2012-06-01', '2013-01-01'),
  added: fc.nat(400),
  removed: fc.nat(400),
  trailers: fc.array(fc.record({ kind: fc.constantFrom<TrailerKind>('signoff', 'review', 'test', 'report', 'report-test'), who: people }), { maxLength: 4 }),
}).map(({ author, trailers, ...rest }) => ({
  ...rest,
  authorName: author.name,
  authorEmail: author.email,
  trailers: trailers.map(({ kind, who }) => ({ kind, name: who.name, email: who.email })),
}));

/** `parts` hold [commit, position in the log] pairs, counted by one accumulator each. */
function reportOf(parts: readonly (readonly (readonly [CommitRecord, number])[])[], top?: number): StatsReport {
  const attribution = new Attribution(mailmap, config);
  const total = new StatsAccumulator(attribution);
  for (const part of parts) {
    const acc = new StatsAccumulator(attribution);
    for (const [commit, position] of part) acc.add(commit, position);
    total.merge(acc);
  }
  return buildReport(total, { config, ...(top === undefined ? {} : { top }) });
}

function inLogOrder(commits: readonly CommitRecord[]): [CommitRecord, number][] {
  return commits.map((commit, position) => [commit, position]);
}

const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);

describe('report invariants', () => {
  it('totals equal the sums of the rows, and percentages add up to 100', () => {
    fc.assert(
      fc.property(fc.array(commitArb, { maxLength: 40 }), (commits) => {
        const report = reportOf([inLogOrder(commits)]);
        const t = report.totals;
        const dev = (id: string): readonly { count: number; percent: number }[] => report.developers.find((x) => x.id === id)?.rows ?? [];
        const emp = (id: string): readonly { count: number; percent: number }[] => report.employers.find((x) => x.id === id)?.rows ?? [];
        expect(sum(dev('changesets').map((r) => r.count))).toBe(t.changesets);
        expect(sum(dev('changed-lines').map((r) => r.count))).toBe(t.changed);
        expect(sum(emp('changesets').map((r) => r.count))).toBe(t.changesets);
        expect(sum(emp('changed-lines').map((r) => r.count))).toBe(t.changed);
        expect(sum(dev('lines-removed').map((r) => r.count))).toBeLessThanOrEqual(t.removed);
        expect(t.changed).toBe(sum(commits.filter((c) => !c.merge).map((c) => Math.max(c.added, c.removed))));
        for (const table of [...report.developers, ...report.employers]) {
          if (table.id === 'lines-removed' || table.rows.length === 0) continue;
          const percent = sum(table.rows.map((r) => r.percent));
          expect(Math.abs(percent - 100), `${table.id}: ${percent}`).toBeLessThanOrEqual(0.005 * table.rows.length + 1e-9);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('counting a history in parts and merging gives the same report as counting it whole', () => {
    fc.assert(
      fc.property(fc.array(commitArb, { maxLength: 40 }), fc.array(fc.nat(40), { maxLength: 4 }), (commits, cuts) => {
        const bounds = [0, ...[...cuts].sort((a, b) => a - b).map((c) => Math.min(c, commits.length)), commits.length];
        const logged = inLogOrder(commits);
        const parts = bounds.slice(1).map((end, i) => logged.slice(bounds[i], end));
        expect(reportOf(parts)).toEqual(reportOf([logged]));
        // Parts finish in any order: the positions, not the arrival, decide ties.
        expect(reportOf([...parts].reverse())).toEqual(reportOf([logged]));
        expect(reportOf([[...logged].reverse()])).toEqual(reportOf([logged]));
      }),
      { numRuns: 100 },
    );
  });

  it("splits a virtual employer's counts without losing any", () => {
    const commits: CommitRecord[] = [];
    for (let i = 0; i < 7; i++) {
      commits.push({ id: `c${i}`, merge: false, authorName: 'Ben', authorEmail: 'ben@b.example', date: '2012-01-01', added: 10, removed: 1, trailers: [] });
    }
    const rows = reportOf([inLogOrder(commits)]).employers.find((t) => t.id === 'changesets')?.rows.map((r) => [r.name, r.count]);
    // 7 changesets: 50% → 3, 30% → 2, the 2 left over stay with the virtual employer.
    expect(rows).toEqual([
      ['Alpha', 3],
      ['Beta', 2],
      ['Shared', 2],
    ]);
  });

  it("counts a developer's changed lines as gitdm does: the sum of max(added, removed) per changeset", () => {
    const acc = new StatsAccumulator(new Attribution());
    acc.add({ id: 'a', merge: false, authorName: 'Ann', authorEmail: 'ann@x', date: '2012-01-01', added: 10, removed: 0, trailers: [] });
    acc.add({ id: 'b', merge: false, authorName: 'Ann', authorEmail: 'ann@x', date: '2012-01-01', added: 0, removed: 8, trailers: [] });
    expect(buildReport(acc).developers.find((t) => t.id === 'changed-lines')?.rows[0]?.count).toBe(18);
  });

  it('keeps equal counts in the order the log met them (not by name), so a top-N cut matches gitdm', () => {
    const commit = (id: string, name: string, trailers: CommitRecord['trailers'] = []): CommitRecord => ({
      id, merge: false, authorName: name, authorEmail: `${name.toLowerCase()}@z.example`, date: '2012-01-01', added: 1, removed: 0, trailers,
    });
    const log = inLogOrder([
      commit('1', 'Zed', [{ kind: 'review', name: 'Yan', email: 'yan@z.example' }, { kind: 'review', name: 'Abe', email: 'abe@z.example' }]),
      commit('2', 'Mia'),
      commit('3', 'Abe'),
    ]);
    const report = reportOf([log], 2);
    const names = (id: string): string[] => report.developers.find((t) => t.id === id)?.rows.map((r) => r.name) ?? [];
    // Abe was met (as a reviewer) before Mia, so he ranks before her among the 1-changeset rows.
    expect(names('changesets')).toEqual(['Zed', 'Abe']);
    expect(names('reviews')).toEqual(['Yan', 'Abe']);
    // However the commits arrive.
    expect(reportOf([[...log].reverse()], 2)).toEqual(report);
  });
});
