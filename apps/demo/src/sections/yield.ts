import { setImmediate } from 'node:timers/promises';

/**
 * Lets the event loop turn between two search jobs. On one thread the search is nothing but
 * promise callbacks, which never give Node a turn to deliver a signal: without this, Ctrl-C
 * was seen only after the whole search under plain node, and under tsx (`pnpm demo`) the
 * process ended with nothing printed.
 */
export async function yieldToSignals(): Promise<void> {
  await setImmediate();
}
