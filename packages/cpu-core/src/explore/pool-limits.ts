/** More threads than this is a mistake, not a machine: each one is a worker with its own machine. */
export const MAX_SEARCH_THREADS = 256;

/**
 * What is wrong with a search's state budget and thread count, or undefined when both can run.
 * The pool takes them as they come: a NaN or negative budget ran and reported a verdict, and
 * 1e9 threads ran the process out of memory. Domain packages wrap the text in their own error.
 */
export function searchPoolProblem(maxStates: number | undefined, threads: number | undefined): string | undefined {
  if (maxStates !== undefined && (!Number.isSafeInteger(maxStates) || maxStates < 1)) return `maxStates must be a positive integer, got ${String(maxStates)}`;
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 1 || threads > MAX_SEARCH_THREADS)) return `threads must be an integer from 1 to ${String(MAX_SEARCH_THREADS)}, got ${String(threads)}`;
  return undefined;
}
