import { randomBytes } from 'node:crypto';
import { rename, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { DevStatsError } from '../errors.js';
import { escapeControls } from '../render/escape.js';
import { describeFsError } from './fs-errors.js';

/**
 * Writes `text` to a temporary file beside `path`, then renames it over `path`: a full
 * disk, a size limit or a crash leaves the old file (or none), never half a report.
 * Failures are one sentence naming the path: "cannot write report.html: is a directory".
 */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(temporary, text, { flag: 'wx' });
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw new DevStatsError('DEV_STATS_UNWRITABLE', `cannot write ${escapeControls(path)}: ${describeFsError(error)}`, { cause: error });
  }
}
