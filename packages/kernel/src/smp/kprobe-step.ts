import type { SmpCodeContext } from './code-context.js';
import { KPROBE_BOOST, KPROBE_ENTRY, STAT } from './layout.js';

export const EFLAGS_TF = 0x100;
export const EFLAGS_IF = 0x200;

/**
 * The #DB vector's entry, `debug`: the single step of a kprobe's copied instruction has
 * trapped. 3.3's `post_kprobe_handler()` → `resume_execution()`: the ip moves from the copy
 * back to the probed code (`regs->ip += orig_ip - copy_ip`), TF is cleared and the TF|IF the
 * int3 saved come back; a probe still at `afterStep` becomes boosted (3.3 writes the jump
 * back into the slot now; our slots carry it from the start, unused until boosted). A #DB
 * with no current kprobe is counted with the unclaimed int3s and stops the CPU, as die()
 * would. Returns with iret.
 */
export function emitKprobeDebugEntry(ctx: SmpCodeContext): void {
  const { a, isa } = ctx;
  const ip = ctx.savedBytes + isa.w; // saved registers and the stall time stamp
  const flags = ip + 2 * isa.w;
  const stray = ctx.local('db_stray');
  const keep = ctx.local('db_keep');
  a.label('debug');
  ctx.save();
  ctx.stallBegin();
  ctx.cpuStat(isa.ax);
  a.mov(isa.cx, isa.word(isa.ax, STAT.kprobeCur));
  a.test(isa.cx, isa.cx).je(stray);
  a.mov(isa.word(isa.ax, STAT.kprobeCur), 0); // reset_current_kprobe()
  a.mov(isa.dx, isa.word(isa.sp, ip));
  a.sub(isa.dx, isa.word(isa.cx, KPROBE_ENTRY.slot)).add(isa.dx, isa.word(isa.cx, KPROBE_ENTRY.addr));
  a.mov(isa.word(isa.sp, ip), isa.dx);
  a.mov(isa.dx, isa.word(isa.sp, flags));
  a.and(isa.dx, ~(EFLAGS_TF | EFLAGS_IF)).or(isa.dx, isa.word(isa.ax, STAT.kprobeFlags));
  a.mov(isa.word(isa.sp, flags), isa.dx);
  a.cmp(isa.word(isa.cx, KPROBE_ENTRY.boost), KPROBE_BOOST.afterStep).jne(keep);
  a.mov(isa.word(isa.cx, KPROBE_ENTRY.boost), KPROBE_BOOST.boosted);
  a.label(keep);
  ctx.stallEnd();
  ctx.restore();
  ctx.iret();
  a.label(stray);
  a.lock().inc(ctx.v('strayInt3'));
  const dead = ctx.local('db_dead');
  a.cli();
  a.label(dead).hlt().jmp(dead);
}
