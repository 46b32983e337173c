export { explore } from './explore/explore.js';
export type { Counterexample, ExploreOptions, ExploreResult, Invariant } from './explore/explore.js';
