import type { Accounting, DesignId, MachineConfig } from './accounting.js';
import { CostaAccounting } from './design-costa.js';
import { NoAccounting } from './design-off.js';
import { ObjcgAccounting } from './design-objcg.js';
import { SouhlalAccounting, type SouhlalOptions } from './design-souhlal.js';
import { checkChoice } from './validate.js';

export const DESIGNS: readonly Exclude<DesignId, 'off'>[] = ['costa', 'souhlal', 'objcg'];
const DESIGN_IDS: readonly DesignId[] = ['off', ...DESIGNS];

export interface DesignOptions {
  readonly souhlal?: SouhlalOptions;
}

/** One of the three designs (or no accounting) on a fresh machine. */
export function createDesign(id: DesignId, config: MachineConfig, options: DesignOptions = {}): Accounting {
  checkChoice(id, 'a design', DESIGN_IDS);
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
