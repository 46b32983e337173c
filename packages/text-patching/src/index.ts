export { TextPatchingError } from './errors.js';
export type { TextPatchingErrorCode } from './errors.js';
export { INT3, NOP5, breakpointStates, callBytes, hex, jmpBytes, rel32Target } from './forms.js';
export { runPatch } from './run.js';
export type { Arch, CpuFigures, Listing, PatchConfig, PatchMethod, PatchResult, PatchUser } from './run.js';
export type { BpMode } from './code/layout.js';
export type { KernelImage, PatchSite } from './code/image.js';
export { CPU_COUNTS, nmiSweep, patchFigures } from './figures.js';
export type { FigureOptions, FigureRow, FigureVariant, NmiSweepResult } from './figures.js';
