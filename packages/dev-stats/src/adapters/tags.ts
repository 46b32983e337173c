import type { TagDate } from '../release.js';
import { runGit } from './git.js';

/** Every tag with its date (tagger date of annotated tags, else the commit's). */
export async function readTagDates(repo: string): Promise<TagDate[]> {
  const text = await runGit(repo, ['for-each-ref', 'refs/tags', '--format=%(refname:short)%00%(creatordate:short)']);
  const tags: TagDate[] = [];
  for (const line of text.split('\n')) {
    const [tag, date] = line.split('\0');
    if (tag !== undefined && date !== undefined && tag !== '' && /^\d{4}-\d{2}-\d{2}$/.test(date)) tags.push({ tag, date });
  }
  return tags;
}
