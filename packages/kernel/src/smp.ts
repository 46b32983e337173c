// `@kernsim/kernel/smp`: the kernel's SMP and live-patching plumbing, and the lean SMP
// kernel the text-patching figures boot on up to 4096 CPUs. Emitters write machine code
// into an `SmpCodeContext`; `@kernsim/text-patching` composes them with its patching methods.
export { SmpCodeContext } from './smp/code-context.js';
export { smpLayoutOf, varAddress, VAR, STAT, SM_STATE, KPROBE_BOOST, KPROBE_ENTRY, MOD_CODE_WRITE_FLAG } from './smp/layout.js';
export type { SmpLayout, VarName } from './smp/layout.js';
export { emitEoi, emitSendIpiAllButSelf } from './smp/apic.js';
export { emitSync } from './smp/sync.js';
export type { SyncOptions } from './smp/sync.js';
export { emitStopMachine } from './smp/stop-machine.js';
export type { StopMachineOptions } from './smp/stop-machine.js';
export { emitInt3Entry } from './smp/int3.js';
export type { Int3ChainHandler } from './smp/int3.js';
export { emitBsearch, emitInt3TableLookup } from './smp/bsearch.js';
export { buildKprobeSlots, emitKprobeInt3Handler, emitKprobePreHandler, encodeKprobeTable, optimizableRun } from './smp/kprobes.js';
export type { KprobeBoost, KprobeSlot } from './smp/kprobes.js';
export { emitKprobeDebugEntry } from './smp/kprobe-step.js';
export { emitFtraceCaller, emitFtraceModCode } from './smp/ftrace.js';
export { emitHandlers } from './smp/handlers.js';
export type { HandlerOptions } from './smp/handlers.js';
export { loadSmpKernel, smpMemoryMiB } from './smp/smp-kernel.js';
export type { SmpImage } from './smp/smp-kernel.js';
