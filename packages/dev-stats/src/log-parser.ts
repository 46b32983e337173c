import { GitdmLogParser } from './gitdm-log.js';
import { GitFormatParser } from './git-format.js';
import type { CommitRecord } from './model.js';

export type LogFormat = 'auto' | 'gitdm' | 'dev-stats';

/**
 * A parser for a saved log that picks its format from the first non-blank line:
 * `commit <id>` is what gitdm reads (`git log --numstat` or `git log -p`), a NUL-led
 * header is dev-stats' own format ({@link GIT_LOG_FORMAT}).
 */
export class LogParser {
  private inner: GitdmLogParser | GitFormatParser | undefined;

  constructor(
    private readonly emit: (commit: CommitRecord) => void,
    private readonly format: LogFormat = 'auto',
  ) {}

  line(line: string): void {
    if (this.inner === undefined) {
      if (this.format === 'auto' && line.trim() === '') return;
      const format = this.format === 'auto' ? (line.startsWith('\0C') ? 'dev-stats' : 'gitdm') : this.format;
      this.inner = format === 'gitdm' ? new GitdmLogParser(this.emit) : new GitFormatParser(this.emit);
    }
    this.inner.line(line);
  }

  end(): void {
    this.inner?.end();
  }
}
