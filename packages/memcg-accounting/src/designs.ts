import type { Accounting, DesignId, MachineConfig } from './accounting.js';
import { CostaAccounting } from './design-costa.js';
import { NoAccounting } from './design-off.js';
import { ObjcgAccounting } from './design-objcg.js';
import { SouhlalAccounting, type SouhlalOptions } from './design-souhlal.js';
import { MemcgError } from './errors.js';
import { checkBoolean, checkChoice, checkInt } from './validate.js';

export const DESIGNS: readonly Exclude<DesignId, 'off'>[] = ['costa', 'souhlal', 'objcg'];
const DESIGN_IDS: readonly DesignId[] = ['off', ...DESIGNS];
/** 2^26 pages of 4 KiB: 256 GiB, far beyond any workload here, small enough for typed arrays. */
export const MAX_PAGES = 1 << 26;
/** NR_CPUS of a large 2012 distribution kernel (CONFIG_NR_CPUS=4096 on x86_64 MAXSMP). */
export const MAX_CPUS = 4096;

export interface DesignOptions {
  readonly souhlal?: SouhlalOptions;
}

/** One of the three designs (or no accounting) on a fresh machine. */
export function createDesign(id: DesignId, config: MachineConfig, options: DesignOptions = {}): Accounting {
  checkChoice(id, 'a design', DESIGN_IDS);
  const raw: unknown = config;
  if (typeof raw !== 'object' || raw === null) {
    throw new MemcgError('KERNSIM_MEMCG_BAD_ARGUMENT', `expected a machine config { pages, cpus }; got ${raw === null ? "null" : typeof raw}`);
  }
  checkInt(config.pages, 'a number of pages', 1, MAX_PAGES);
  checkInt(config.cpus, 'a number of CPUs', 1, MAX_CPUS);
  const souhlal = options.souhlal ?? {};
  if (souhlal.trackRoot !== undefined) checkBoolean(souhlal.trackRoot, 'souhlal.trackRoot');
  if (souhlal.removal !== undefined) checkChoice(souhlal.removal, 'souhlal.removal', ['root-holds', 'as-posted']);
  switch (id) {
    case 'off':
      return new NoAccounting(config);
    case 'costa':
      return new CostaAccounting(config);
    case 'souhlal':
      return new SouhlalAccounting(config, souhlal);
    case 'objcg':
      return new ObjcgAccounting(config);
  }
}
