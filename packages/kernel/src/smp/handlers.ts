import type { SmpCodeContext } from './code-context.js';
import { STAT } from './layout.js';

export interface HandlerOptions {
  /** The NMI handler runs 3.3 ftrace's `ftrace_nmi_enter/exit` around its work. */
  readonly ftraceNmiProtocol: boolean;
  /** Label of a machine word holding the function the NMI handler calls (text patching: the first patched function). */
  readonly nmiCalls: string;
}

/**
 * The NMI handler (it calls a function, as a perf or watchdog handler calls traced code)
 * and the #GP and #UD (BUG) handlers (each counts the fault and stops the CPU, as the
 * kernel's die() would).
 */
export function emitHandlers(ctx: SmpCodeContext, options: HandlerOptions): void {
  const { a, isa } = ctx;

  a.label('nmi');
  ctx.save();
  a.lock().inc(ctx.v('nmiCount'));
  ctx.cpuStat(isa.ax);
  a.inc(isa.word(isa.ax, STAT.inNmi));
  if (options.ftraceNmiProtocol) {
    // ftrace_nmi_enter(): remember whether a modification is under way; if the writer has
    // MOD_CODE_WRITE_FLAG set, do its write here too (the same bytes), so this CPU never
    // runs the site half-written.
    a.mov(isa.ax, ctx.v('modifyingCode')).push(isa.ax); // save_modifying_code
    const skip = ctx.local('nmi_enter_done');
    const serialize = ctx.local('nmi_enter_sync');
    a.test(isa.ax, isa.ax).je(skip);
    a.mov(isa.eax, 1);
    a.lock().xadd(ctx.vd('nmiRunning'), isa.eax);
    a.inc(isa.eax);
    a.test(isa.eax, 0x80000000).je(serialize);
    a.call('ftrace_mod_code');
    a.lock().inc(ctx.v('nmiUpdateCount'));
    a.label(serialize);
    // 3.3 has an smp_mb() here ("must have previous changes seen before executions") and
    // relies on the fetch of the site coming after the writer's stores: the writer may have
    // finished between this NMI's delivery and its atomic_inc. The machine only credits a
    // CPU with other CPUs' code bytes after a serializing event, so cpuid stands in for
    // that fresh fetch (and for the self-modifying-code pipeline clear after our own write).
    a.call('sync_core');
    a.label(skip);
  }
  a.mov(isa.ax, isa.word(options.nmiCalls));
  a.call(isa.ax);
  if (options.ftraceNmiProtocol) {
    const skip = ctx.local('nmi_exit_done');
    a.pop(isa.ax);
    a.test(isa.ax, isa.ax).je(skip);
    a.lock().dec(ctx.vd('nmiRunning'));
    a.label(skip);
  }
  ctx.cpuStat(isa.ax);
  a.dec(isa.word(isa.ax, STAT.inNmi));
  ctx.restore();
  ctx.iret();

  // BUG(): ud2 raises #UD, and do_invalid_op() dies; counted, with where it struck.
  a.label('invalid_op');
  a.lock().inc(ctx.v('bugCount'));
  a.push(isa.ax);
  a.mov(isa.ax, isa.word(isa.sp, isa.w)).mov(ctx.v('bugLastRip'), isa.ax);
  a.pop(isa.ax);
  const bugDead = ctx.local('bug_dead');
  a.cli();
  a.label(bugDead).hlt().jmp(bugDead);

  a.label('general_protection');
  a.lock().inc(ctx.v('gpCount'));
  a.push(isa.ax);
  a.mov(isa.ax, isa.word(isa.sp, 2 * isa.w)).mov(ctx.v('gpLastRip'), isa.ax);
  a.pop(isa.ax);
  const dead = ctx.local('gp_dead');
  a.cli();
  a.label(dead).hlt().jmp(dead);
}
