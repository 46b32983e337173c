import { imm } from '@kernsim/cpu-core';
import type { BuildContext } from '../build-context.js';
import { PERCPU, PMU } from '../percpu.js';
import { TASK } from './show-state.js';

/** Words in one perf sample record (`struct perf_sample_data` as this kernel lays it out). */
export const SAMPLE_WORDS = 8;
/** Magic in word 0 of every record, so observers can find records in the buffer. */
export const SAMPLE_MAGIC = 0x5045524en; // "PERF"
/** The sampler's period in cycles, written into each record. */
export const SAMPLE_PERIOD = 0x1000;

/**
 * The two NMI sources, both perf counters as in 3.3: the hard-lockup detector (a
 * cycles counter whose overflow runs `watchdog_overflow_callback`) and a sampler that
 * appends a record to a vmalloc'd ring buffer. `perf_event_nmi_handler` reads and
 * acknowledges the PMU status word and runs the callback of each overflowed counter;
 * it is registered as an NMI_LOCAL handler.
 */
export function emitNmiSources(ctx: BuildContext): void {
  emitPerfEventNmiHandler(ctx);
  emitWatchdogCallback(ctx);
  emitPerfSample(ctx);
}

/** A per-CPU variable as a memory operand. */
function percpu(ctx: BuildContext, f: keyof typeof PERCPU): ReturnType<BuildContext['isa']['percpu']> {
  return ctx.isa.percpu(PERCPU[f] * ctx.isa.w);
}

function emitPerfEventNmiHandler(ctx: BuildContext): void {
  const { a, isa } = ctx;
  const { ax, bx, dx, di, si, sp } = isa;
  const pc = (f: keyof typeof PERCPU): ReturnType<typeof isa.percpu> => percpu(ctx, f);
  // perf_event_nmi_handler(di = type, si = regs) -> ax = counters handled
  a.label('perf_event_nmi_handler');
  a.push(bx).push(dx).push(di);
  a.xor(isa.eax, isa.eax);
  a.xchg(pc('pmuStatus'), ax);
  a.mov(bx, ax);
  a.xor(isa.eax, isa.eax);
  a.mov(dx, ax);
  a.mov(di, si);
  a.test(bx, PMU.watchdog);
  a.jz('.Lperf_no_watchdog');
  a.call('watchdog_overflow_callback');
  a.add(dx, 1);
  a.label('.Lperf_no_watchdog');
  a.test(bx, PMU.sampler);
  a.jz('.Lperf_no_sample');
  a.call('perf_sample');
  a.add(dx, 1);
  a.label('.Lperf_no_sample');
  // A traced function on the NMI path (ftrace's site: a 5-byte nop after the prologue).
  a.call('nmi_traced_fn');
  a.mov(ax, dx);
  a.pop(di).pop(dx).pop(bx);
  a.ret();

  a.label('nmi_traced_fn');
  a.push(isa.bp);
  a.mov(isa.bp, sp);
  a.label('nmi_traced_fn_site');
  a.nop(5);
  a.pop(isa.bp);
  a.ret();
}

function emitWatchdogCallback(ctx: BuildContext): void {
  const { a, isa } = ctx;
  const { bx, di } = isa;
  const pc = (f: keyof typeof PERCPU): ReturnType<typeof isa.percpu> => percpu(ctx, f);
  // watchdog_overflow_callback(di = regs): 3.3's hard-lockup check, with the
  // developer's show_state() where the kernel would WARN.
  a.label('watchdog_overflow_callback');
  a.push(bx).push(di);
  a.mov(bx, pc('hrtimerInterrupts'));
  a.cmp(bx, pc('hrtimerInterruptsSaved'));
  a.je('.Lwd_lockup');
  a.mov(pc('hrtimerInterruptsSaved'), bx);
  a.mov(pc('hardWatchdogWarn'), 0);
  a.jmp('.Lwd_out');
  a.label('.Lwd_lockup');
  a.cmp(pc('hardWatchdogWarn'), 0);
  a.jne('.Lwd_out');
  a.mov(pc('hardWatchdogWarn'), 1);
  a.add(pc('lockups'), 1);
  a.mov(di, imm(isa.abs(ctx.d('str_lockup'))));
  a.call('puts');
  a.mov(di, pc('cpuNumber'));
  a.call('put_dec');
  a.call('put_nl');
  a.call('show_state');
  a.label('.Lwd_out');
  a.pop(di).pop(bx);
  a.ret();
}

function emitPerfSample(ctx: BuildContext): void {
  const { a, isa } = ctx;
  const { ax, bx, cx, di, si, sp, w } = isa;
  const word = isa.word;
  const pc = (f: keyof typeof PERCPU): ReturnType<typeof isa.percpu> => percpu(ctx, f);
  // perf_sample(di = regs): build the record on the stack, append it to the buffer.
  // The buffer is vmalloc'd: the first write from a task whose page table lacks the
  // mapping faults, in NMI context.
  const rec = 5 * w; // the record sits above the five saved registers
  a.label('perf_sample');
  a.sub(sp, SAMPLE_WORDS * w);
  a.push(ax).push(bx).push(cx).push(si).push(di);
  a.mov(word(sp, rec), SAMPLE_MAGIC);
  a.mov(ax, word(di, ctx.regs.ip));
  a.mov(word(sp, rec + w), ax);
  a.mov(ax, pc('currentTask'));
  a.mov(ax, word(ax, TASK.pid * w));
  a.mov(word(sp, rec + 2 * w), ax);
  a.mov(ax, pc('cpuNumber'));
  a.mov(word(sp, rec + 3 * w), ax);
  a.mov(ax, pc('perfSamples'));
  a.mov(word(sp, rec + 4 * w), ax);
  a.mov(word(sp, rec + 5 * w), 0);
  a.mov(word(sp, rec + 6 * w), SAMPLE_PERIOD);
  a.mov(word(sp, rec + 7 * w), w);
  a.label('perf_output_copy');
  a.mov(di, pc('perfBuffer'));
  a.mov(ax, pc('perfHead'));
  a.and(ax, 4096 / (SAMPLE_WORDS * w) - 1);
  a.shl(ax, Math.log2(SAMPLE_WORDS * w));
  a.add(di, ax);
  a.mov(pc('perfLastAddr'), di);
  a.lea(si, isa.word(sp, rec));
  a.mov(cx, SAMPLE_WORDS);
  a.label('.Lperf_copy');
  a.mov(ax, word(si));
  a.label('perf_output_store');
  a.mov(word(di), ax);
  a.add(si, w);
  a.add(di, w);
  a.sub(cx, 1);
  a.jnz('.Lperf_copy');
  a.add(pc('perfHead'), 1);
  a.add(pc('perfSamples'), 1);
  a.pop(di).pop(si).pop(cx).pop(bx).pop(ax);
  a.add(sp, SAMPLE_WORDS * w);
  a.ret();
}
