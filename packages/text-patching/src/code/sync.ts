import { emitEoi, emitSendIpiAllButSelf } from './apic.js';
import { VECTOR } from './context.js';
import type { CodeContext } from './context.js';

/**
 * `sync_core()` (a serializing `cpuid`), `run_sync()` = `on_each_cpu(do_sync_core, NULL, 1)`
 * (an IPI to every other CPU, then wait until each has run the empty handler), and that
 * IPI's handler.
 */
export function emitSync(ctx: CodeContext): void {
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
  emitSendIpiAllButSelf(ctx, VECTOR.callFunction);
  a.call('sync_core');
  const wait = ctx.local('sync_wait');
  const done = ctx.local('sync_done');
  a.label(wait);
  a.cmp(ctx.v('syncPending'), 0).je(done);
  ctx.relax().jmp(wait);
  a.label(done);
  a.pop(isa.ax);
  a.ret();

  a.label('call_function_interrupt');
  ctx.save();
  ctx.stallBegin();
  a.call('sync_core');
  a.lock().dec(ctx.v('syncPending'));
  emitEoi(ctx);
  ctx.stallEnd('ipis');
  ctx.restore();
  ctx.iret();
}
