import { aboutSection } from './about.js';
import { cpuSection } from './cpu.js';
import { exploreSection } from './explore.js';
import { memcgSection } from './memcg.js';
import { nmiSection } from './nmi.js';
import { patchSection } from './patch.js';
import { statsSection } from './stats.js';
import type { Section } from './section.js';

/** The tour, in order. Each package adds its section here when it lands. */
export const sections: readonly Section[] = [aboutSection, cpuSection, nmiSection, memcgSection, patchSection, statsSection, exploreSection];
