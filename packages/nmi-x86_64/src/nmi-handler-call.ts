import { reg } from '@kernsim/cpu-core';
import { PT_REGS_64, restoreAll64 } from '@kernsim/kernel/entry-kit';
import type { BuildContext } from '@kernsim/kernel/entry-kit';

/** Code a design adds around the do_nmi call, with %gs the kernel's (after save_paranoid, before its swapgs is undone). */
export interface HandlerCallHooks {
  readonly beforeCall?: (ctx: BuildContext) => void;
  readonly afterCall?: (ctx: BuildContext) => void;
}

/**
 * The part both x86_64 entries share (3.3 kept it from the old entry): build pt_regs with
 * save_paranoid (which reports in ebx whether it did swapgs), call do_nmi, undo the swapgs
 * if it was done, restore the registers. The caller places the label before it and the
 * return after it.
 */
export function emitNmiHandlerCall(ctx: BuildContext, hooks: HandlerCallHooks = {}): void {
  const { a } = ctx;
  a.push(-1);
  a.sub(reg.rsp, PT_REGS_64.origAx);
  a.call('save_paranoid');
  hooks.beforeCall?.(ctx);
  a.mov(reg.rdi, reg.rsp);
  a.mov(reg.rsi, -1);
  a.call('do_nmi');
  hooks.afterCall?.(ctx);
  a.test(reg.ebx, reg.ebx);
  a.jnz('nmi_restore');
  a.label('nmi_swapgs');
  a.swapgs();
  a.label('nmi_restore');
  restoreAll64(ctx);
}
