import type { Machine } from '@kernsim/cpu-core';
import type { PatchImage } from './code/image.js';

/** What every CPU executed at one site, and what the patching CPU had written when each sync began. */
export interface SiteObservation {
  readonly site: number;
  /** The site's bytes each time CPU 0 started a sync round (`run_sync`). */
  readonly atSyncs: readonly (readonly number[])[];
  /** Per CPU (index = CPU), the distinct byte states it executed at the site, in order. */
  readonly byCpu: readonly (readonly (readonly number[])[])[];
}

/**
 * Watches every site and `run_sync` with the machine's execute watches (no trace): each time a
 * CPU is about to execute the instruction at a site, the site's bytes as memory holds them then
 * (what it executes: the watch fires after the cross-modifying-code check passed). Returns the
 * function that removes the watches and reads the observations.
 */
export function observeSites(m: Machine, image: PatchImage): () => SiteObservation[] {
  const read = (i: number): number[] => {
    const site = image.sites[i]!;
    return Array.from(m.readBytes(site.address, site.oldBytes.length));
  };
  const byCpu = image.sites.map(() => m.cpus.map((): number[][] => []));
  const atSyncs = image.sites.map((): number[][] => []);
  const removers = image.sites.map((site, i) =>
    m.onExecute(site.address, 1, (cpu) => {
      const seen = byCpu[i]![cpu]!;
      const bytes = read(i);
      const last = seen[seen.length - 1];
      if (last === undefined || last.some((b, j) => b !== bytes[j])) seen.push(bytes);
    }),
  );
  removers.push(
    m.onExecute(image.symbol('run_sync'), 1, (cpu) => {
      if (cpu === 0) image.sites.forEach((_, i) => atSyncs[i]!.push(read(i)));
    }),
  );
  return () => {
    for (const remove of removers) remove();
    return image.sites.map((_, i) => ({ site: i, atSyncs: atSyncs[i]!, byCpu: byCpu[i]! }));
  };
}
