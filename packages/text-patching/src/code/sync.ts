import { emitEoi, emitSendIpiAllButSelf } from './apic.js';
import { VECTOR } from './context.js';
import type { CodeContext } from './context.js';
import { ENTRY } from './layout.js';

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
  emitQuiesceCheck(ctx);
  a.call('sync_core');
  a.lock().dec(ctx.v('syncPending'));
  emitEoi(ctx);
  ctx.stallEnd('ipis');
  ctx.restore();
  ctx.iret();
}

/**
 * With `quiesceOn`: is the interrupted instruction pointer inside a patch-table entry's
 * replaced bytes (after its first) or in the out-of-line slots? Then `quiesceBusy` = 1.
 * Runs right after `save()` and `stallBegin()`: the hardware frame's ip is 7 words up.
 */
function emitQuiesceCheck(ctx: CodeContext): void {
  const { a, isa } = ctx;
  const done = ctx.local('q_done');
  const busy = ctx.local('q_busy');
  const loop = ctx.local('q_loop');
  const next = ctx.local('q_next');
  a.cmp(ctx.v('quiesceOn'), 0).je(done);
  a.mov(isa.si, isa.word(isa.sp, ctx.savedBytes + isa.w));
  const table = ctx.local('q_table');
  a.mov(isa.di, ctx.layout.slots).cmp(isa.si, isa.di).jb(table);
  a.mov(isa.di, ctx.v('slotsEnd')).cmp(isa.si, isa.di).jb(busy);
  a.label(table);
  a.mov(isa.bx, ctx.v('bpVec')).mov(isa.cx, ctx.v('bpNr'));
  a.label(loop);
  a.test(isa.cx, isa.cx).je(done);
  a.mov(isa.dx, isa.word(isa.bx, ENTRY.addr));
  a.cmp(isa.si, isa.dx).jbe(next);
  a.movzx(isa.eax, isa.byte(isa.bx, ENTRY.span));
  a.add(isa.dx, isa.ax);
  a.cmp(isa.si, isa.dx).jb(busy);
  a.label(next);
  a.add(isa.bx, ENTRY.size).dec(isa.cx).jmp(loop);
  a.label(busy);
  a.mov(ctx.v('quiesceBusy'), 1);
  a.label(done);
}
