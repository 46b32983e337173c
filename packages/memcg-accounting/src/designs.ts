import type { Accounting, DesignId, MachineConfig } from './accounting.js';
import { CostaAccounting } from './design-costa.js';
import { NoAccounting } from './design-off.js';
import { ObjcgAccounting } from './design-objcg.js';
import { SouhlalAccounting, type SouhlalOptions } from './design-souhlal.js';
import { MemcgError } from './errors.js';

export const DESIGNS: readonly Exclude<DesignId, 'off'>[] = ['costa', 'souhlal', 'objcg'];

export interface DesignOptions {
  readonly souhlal?: SouhlalOptions;
}

/** One of the three designs (or no accounting) on a fresh machine. */
export function createDesign(id: DesignId, config: MachineConfig, options: DesignOptions = {}): Accounting {
  if (!(config.pages > 0) || !Number.isInteger(config.cpus) || config.cpus < 1) {
    throw new MemcgError('KERNSIM_MEMCG_BAD_ARGUMENT', `expected pages > 0 and cpus >= 1; got ${String(config.pages)} and ${String(config.cpus)}`);
  }
  switch (id) {
    case 'off':
      return new NoAccounting(config);
    case 'costa':
      return new CostaAccounting(config);
    case 'souhlal':
      return new SouhlalAccounting(config, options.souhlal ?? {});
    case 'objcg':
      return new ObjcgAccounting(config);
  }
}
