// `@kernsim/kernel`: boot the kernel with an NMI entry, run the NMI scenarios, read their
// results. Writing an NMI entry needs `@kernsim/kernel/entry-kit`; the SMP and
// live-patching plumbing is `@kernsim/kernel/smp`. The architecture type is cpu-core's `Arch`.
export { KernelError } from './errors.js';
export type { KernelErrorCode } from './errors.js';
export type { NmiType } from './code/nmi-chain.js';
export type { NmiEntry } from './nmi-entry.js';
export type { PercpuField } from './percpu.js';
export { layoutOf } from './layout.js';
export type { Layout } from './layout.js';
export type { KernelImage } from './kernel-image.js';
export { bootKernel } from './boot.js';
export type { BootOptions, CpuTask, Kernel, TaskInfo } from './boot.js';
export { runNmiScenario, prepareNmiScenario, dumpStatus } from './scenario-runner.js';
export { nmiAccountingErrors } from './nmi-accounting.js';
export type { PreparedScenario } from './scenario-runner.js';
export type { CpuNmiAccount, DumpStatus, PreparedRunOptions, RunOptions, ScenarioEvent, ScenarioResult, StackCapture } from './scenario-types.js';
export { scenarioSpec, SCENARIO_IDS } from './scenarios.js';
export type { Arrival, CpuSetup, NmiInjection, ScenarioId, ScenarioSpec } from './scenarios.js';
export type { TaskProgram } from './user-programs.js';
export { NmiTracker } from './nmi-tracker.js';
export type { ActiveNmi, CorruptedReturn, FrameOverwrite } from './nmi-tracker.js';
export { KERNEL_VECTOR } from './vectors.js';
