// `@kernsim/kernel/entry-kit`: the toolkit for writing an NMI entry (what
// `@kernsim/nmi-x86_64` and `@kernsim/nmi-i386` plug into the kernel): the code emitter's
// context, the pt_regs layouts, the per-CPU variables, the segment selectors and the
// register save/restore sequences. A kernel user needs none of it: see the main entry.
export { PT_REGS_32, PT_REGS_64 } from './build-context.js';
export type { BuildContext, RegsLayout } from './build-context.js';
export type { DoNmiHooks, DoNmiLabels } from './code/nmi-chain.js';
export type { Isa } from './isa.js';
export { PERCPU, PMU, NMI_STATE } from './percpu.js';
export type { PercpuField } from './percpu.js';
export { SEL64 } from './x86_64/entry-common.js';
export { emitReturnWithoutIret, restoreAll64 } from './x86_64/restore.js';
export { restoreAll32, saveAll32 } from './i386/arch-i386.js';
