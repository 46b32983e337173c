export { PrngError } from './errors.js';
export type { PrngErrorCode } from './errors.js';
export { MAX_RANGE, Prng, mulberry32Next, mulberry32Value } from './mulberry32.js';
