export { latchEntry } from './latch-entry.js';
export { runScenario } from './scenarios.js';
export type { I386ScenarioOptions } from './scenarios.js';
export { NmiI386Error } from './errors.js';
export type { NmiI386ErrorCode } from './errors.js';
export { I386_SAVED_WORDS, i386FrameSlotRole, nmiStateName } from './stack-layout.js';
export type { I386SlotRole } from './stack-layout.js';
