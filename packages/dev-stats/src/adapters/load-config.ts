import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DevStatsError } from '../errors.js';
import { type GitdmConfig, parseGitdmConfig } from '../gitdm-config.js';
import { Mailmap } from '../mailmap.js';
import { escapeControls } from '../render/escape.js';
import { describeFsError } from './fs-errors.js';

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new DevStatsError('DEV_STATS_UNREADABLE', `cannot read ${what} ${escapeControls(path)}: ${describeFsError(error)}`, { cause: error });
  }
}

/**
 * Reads a gitdm.config and the files it names. gitdm opens those relative to its `-b`
 * directory; here they are relative to the directory of the configuration file.
 */
export function loadGitdmConfig(configPath: string): GitdmConfig {
  const base = dirname(resolve(configPath));
  return parseGitdmConfig(configPath, (file) => readText(file === configPath ? resolve(configPath) : resolve(base, file), 'gitdm configuration'));
}

export function loadMailmapFile(path: string): Mailmap {
  return Mailmap.parse(readText(path, 'mailmap'));
}
