import type { CodeContext } from './context.js';

export interface HandlerOptions {
  /** The NMI handler runs 3.3 ftrace's `ftrace_nmi_enter/exit` around its work. */
  readonly ftraceNmiProtocol: boolean;
}

/**
 * The NMI handler (it calls the first patchable function, as a perf or watchdog handler
 * calls traced code) and the #GP handler (it counts the fault and stops the CPU, as the
 * kernel's die() would).
 */
export function emitHandlers(ctx: CodeContext, options: HandlerOptions): void {
  const { a, isa } = ctx;

  a.label('nmi');
  ctx.save();
  a.lock().inc(ctx.v('nmiCount'));
  if (options.ftraceNmiProtocol) {
    a.mov(isa.ax, ctx.v('modifyingCode')).push(isa.ax); // save_modifying_code
    const skip = ctx.local('nmi_enter_done');
    a.test(isa.ax, isa.ax).je(skip);
    a.mov(isa.eax, 1);
    a.lock().xadd(ctx.vd('nmiRunning'), isa.eax);
    a.inc(isa.eax);
    a.test(isa.eax, 0x80000000).je(skip);
    a.call('ftrace_mod_code');
    a.lock().inc(ctx.v('nmiUpdateCount'));
    a.label(skip);
  }
  a.mov(isa.ax, isa.word('fn_table'));
  a.call(isa.ax);
  if (options.ftraceNmiProtocol) {
    const skip = ctx.local('nmi_exit_done');
    a.pop(isa.ax);
    a.test(isa.ax, isa.ax).je(skip);
    a.lock().dec(ctx.vd('nmiRunning'));
    a.label(skip);
  }
  ctx.restore();
  ctx.iret();

  a.label('general_protection');
  a.lock().inc(ctx.v('gpCount'));
  a.push(isa.ax);
  a.mov(isa.ax, isa.word(isa.sp, 2 * isa.w)).mov(ctx.v('gpLastRip'), isa.ax);
  a.pop(isa.ax);
  const dead = ctx.local('gp_dead');
  a.cli();
  a.label(dead).hlt().jmp(dead);
}
