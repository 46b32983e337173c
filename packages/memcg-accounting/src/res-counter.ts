// The 2012 res_counter (kernel/res_counter.c, Linux 3.3), one per cgroup and resource,
// linked to the parent's counter of the same resource.

export interface ResCounter {
  usage: number;
  limit: number;
  maxUsage: number;
  failcnt: number;
  softLimit: number;
  /** Charges that went in over the limit because the caller may not fail (see README). */
  forcedCharges: number;
  readonly parent: ResCounter | null;
}

export function newResCounter(parent: ResCounter | null): ResCounter {
  return {
    usage: 0,
    limit: Number.POSITIVE_INFINITY,
    maxUsage: 0,
    failcnt: 0,
    softLimit: Number.POSITIVE_INFINITY,
    forcedCharges: 0,
    parent,
  };
}

/**
 * res_counter_charge: charge every level from `counter` up; the first level over its limit
 * counts a failure and the levels already charged are rolled back. Returns the counter that
 * refused, or null on success. `levels` receives the number of levels touched (the cost).
 */
export function resCounterCharge(counter: ResCounter, value: number, cost: { ops: number }): ResCounter | null {
  let c: ResCounter | null = counter;
  while (c !== null) {
    cost.ops++;
    if (c.usage + value > c.limit) {
      c.failcnt++;
      let undo: ResCounter | null = counter;
      while (undo !== c && undo !== null) {
        cost.ops++;
        undo.usage -= value;
        undo = undo.parent;
      }
      return c;
    }
    c.usage += value;
    if (c.usage > c.maxUsage) c.maxUsage = c.usage;
    c = c.parent;
  }
  return null;
}

/** res_counter_charge_nofail: every level takes the charge; levels pushed over count a failure. */
export function resCounterChargeNofail(counter: ResCounter, value: number, cost: { ops: number }): void {
  let c: ResCounter | null = counter;
  while (c !== null) {
    cost.ops++;
    c.usage += value;
    if (c.usage > c.limit) {
      c.failcnt++;
      c.forcedCharges++;
    }
    if (c.usage > c.maxUsage) c.maxUsage = c.usage;
    c = c.parent;
  }
}

/**
 * res_counter_uncharge_until: uncharge from `counter` up to, not including, `top` (null: all
 * the way). The kernel WARNs and clamps at zero rather than going negative; so do we, and we
 * count the clamps so tests can see them.
 */
export function resCounterUnchargeUntil(
  counter: ResCounter,
  top: ResCounter | null,
  value: number,
  cost: { ops: number; clamps: number },
): void {
  let c: ResCounter | null = counter;
  while (c !== null && c !== top) {
    cost.ops++;
    if (c.usage < value) {
      cost.clamps++;
      c.usage = 0;
    } else {
      c.usage -= value;
    }
    c = c.parent;
  }
}
