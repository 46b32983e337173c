// File errors as a few words a person reads in one sentence ("cannot write report.html:
// is a directory"), instead of Node's "EISDIR: illegal operation on a directory, open …".
const REASONS: Readonly<Record<string, string>> = {
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'is a directory',
  ENOTDIR: 'a part of the path is not a directory',
  ENOENT: 'no such file or directory',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large',
  EROFS: 'read-only file system',
  EEXIST: 'already exists',
  ENAMETOOLONG: 'name too long',
  EMFILE: 'too many open files',
  EIO: 'input/output error',
  ELOOP: 'too many symbolic links',
};

/** The reason a file operation failed, in words (the errno code when it has none). */
export function describeFsError(error: unknown): string {
  const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
  if (code !== undefined) return REASONS[code] ?? code;
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] ?? message;
}
