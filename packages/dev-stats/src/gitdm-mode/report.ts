// gitdm's text report, line for line: "%-25s %4d (%.1f%%)" rows under "\n<title>\n", one
// list sorted in place by each table's count in turn (a stable sort, so equal counts keep
// the previous table's order), and at most `top` entries looked at per table.
import { fixed1, padEnd, padStart } from '../render/format.js';
import type { GitdmEmployer, GitdmHacker } from './database.js';

export interface GitdmTotals {
  readonly changesets: number;
  readonly added: number;
  readonly removed: number;
  /** Σ max(added, removed) over changesets; gitdm makes 0 into 1 before dividing. */
  readonly changed: number;
}

interface Section<T> {
  readonly title: (list: readonly T[]) => string;
  readonly count: (item: T) => number;
  /** The number printed (defaults to `count`; lines removed prints the negated delta). */
  readonly shown?: (item: T) => number;
  readonly total: (list: readonly T[]) => number;
}

function row(name: string, count: number, percent: number): string {
  return `${padEnd(name, 25)} ${padStart(String(count), 4)} (${fixed1(percent)}%)\n`;
}

function sumOf<T>(list: readonly T[], count: (item: T) => number): number {
  return list.reduce((sum, item) => sum + count(item), 0);
}

function sections<T extends { readonly name: string }>(list: T[], all: readonly Section<T>[], top: number): string {
  let out = '';
  for (const section of all) {
    list.sort((a, b) => section.count(b) - section.count(a));
    out += `\n${section.title(list)}\n`;
    const total = section.total(list);
    for (const item of list.slice(0, top)) {
      const shown = (section.shown ?? section.count)(item);
      if (shown > 0) out += row(item.name, shown, (shown * 100) / total);
    }
  }
  return out;
}

function totalled<T>(title: string, count: (item: T) => number): Section<T> {
  return { title: (list) => `${title} (total ${sumOf(list, count)})`, count, total: (list) => sumOf(list, count) };
}

export function gitdmReport(hackers: GitdmHacker[], employers: GitdmEmployer[], totals: GitdmTotals, top: number): string {
  const developers = hackers.filter((h) => h.patches > 0).length;
  const found = employers.filter((e) => e.count > 0).length;
  const changed = totals.changed === 0 ? 1 : totals.changed;
  let out =
    `Processed ${totals.changesets} csets from ${developers} developers\n` +
    `${found} employers found\n` +
    `A total of ${totals.added} lines added, ${totals.removed} removed (delta ${totals.added - totals.removed})\n`;
  out += sections<GitdmHacker>(hackers, [
    { title: () => 'Developers with the most changesets', count: (h) => h.patches, total: () => totals.changesets },
    { title: () => 'Developers with the most changed lines', count: (h) => h.changed, total: () => changed },
    { title: () => 'Developers with the most lines removed', count: (h) => h.removed - h.added, total: () => totals.removed },
    totalled('Developers with the most signoffs', (h) => h.signoffs),
    totalled('Developers with the most reviews', (h) => h.reviews),
    totalled('Developers with the most test credits', (h) => h.tested),
    totalled('Developers who gave the most tested-by credits', (h) => h.testcred),
    totalled('Developers with the most report credits', (h) => h.reports),
    totalled('Developers who gave the most report credits', (h) => h.repcred),
  ], top);
  out += sections<GitdmEmployer>(employers, [
    { title: () => 'Top changeset contributors by employer', count: (e) => e.count, total: () => totals.changesets },
    { title: () => 'Top lines changed by employer', count: (e) => e.changed, total: () => changed },
    totalled('Employers with the most signoffs', (e) => e.sobs),
    totalled('Employers with the most hackers', (e) => e.hackers.size),
  ], top);
  return out;
}
