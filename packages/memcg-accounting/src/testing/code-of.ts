import { MemcgError } from '../errors.js';

/** The `code` of the MemcgError `fn` throws, or undefined when it returns; any other error is rethrown. Tests only. */
export function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof MemcgError) return error.code;
    throw error;
  }
  return undefined;
}
