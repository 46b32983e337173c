import { emitEoi, emitSendIpiAllButSelf } from './apic.js';
import { KERNEL_VECTOR } from '../vectors.js';
import type { SmpCodeContext } from './code-context.js';

export interface SyncOptions {
  /**
   * Emitted at the top of the IPI handler, right after the registers and the stall time
   * stamp are saved (the hardware frame's ip is `savedBytes + w` up): text patching checks
   * there whether the interrupted CPU is inside bytes about to be replaced.
   */
  readonly onInterrupt?: (ctx: SmpCodeContext) => void;
}

/**
 * `sync_core()` (a serializing `cpuid`), `run_sync()` = `on_each_cpu(do_sync_core, NULL, 1)`
 * (an IPI to every other CPU, then wait until each has run the empty handler), and that
 * IPI's handler.
 */
export function emitSync(ctx: SmpCodeContext, options: SyncOptions = {}): void {
  const { a, isa } = ctx;

  a.label('sync_core');
  a.push(isa.ax).push(isa.bx).push(isa.cx).push(isa.dx);
  a.xor(isa.eax, isa.eax).cpuid();
  a.pop(isa.dx).pop(isa.cx).pop(isa.bx).pop(isa.ax);
  a.ret();

  a.label('run_sync');
  a.push(isa.ax);
  a.lock().inc(ctx.v('syncRounds'));
  a.mov(isa.ax, ctx.v('onlineCpus')).dec(isa.ax);
  a.mov(ctx.v('syncPending'), isa.ax);
  a.add(ctx.v('ipisSent'), isa.ax);
  emitSendIpiAllButSelf(ctx, KERNEL_VECTOR.CALL_FUNCTION);
  a.call('sync_core');
  ctx.spinWhileSet(ctx.v('syncPending'), 'sync_wait', 'sync_done');
  a.pop(isa.ax);
  a.ret();

  a.label('call_function_interrupt');
  ctx.save();
  ctx.stallBegin();
  options.onInterrupt?.(ctx);
  a.call('sync_core');
  a.lock().dec(ctx.v('syncPending'));
  emitEoi(ctx);
  ctx.stallEnd('ipis');
  ctx.restore();
  ctx.iret();
}
