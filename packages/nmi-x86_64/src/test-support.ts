import type { Kernel } from '@kernsim/kernel';

/** Steps CPU 0 until `pred` holds (at most `limit` steps); whether it does. For this package's tests. */
export function stepUntil(k: Kernel, pred: () => boolean, limit = 5000): boolean {
  for (let i = 0; i < limit && !pred(); i++) k.machine.step(0);
  return pred();
}
