import { mem } from '@kernsim/cpu-core';
import type { SmpCodeContext } from './code-context.js';
import { STAT } from './layout.js';

/** One handler of the #BP chain: `handler(di = &saved ip) -> ax`, 0 when the trap is not its own. */
export interface Int3ChainHandler {
  readonly label: string;
  /**
   * i386: the handler may return 2, meaning it emulated a call whose return address went
   * into the gap word the entry reserved; then the entry returns at once, leaving the gap.
   */
  readonly emulatesCall?: boolean;
}

/**
 * The #BP vector's entry, `int3`: the chain's handlers in order (as today's do_int3 calls
 * poke_int3_handler first, then kprobes); an int3 nobody claims is counted and stops the
 * CPU, as die() would. Returns with iret.
 *
 * The entry first moves the hardware frame down (x86_64: 16 bytes, keeping the alignment;
 * i386: one word) so an emulated call has room for its return address just below the
 * interrupted stack pointer — today's kernel leaves the same "int3 gap". #BP thus needs no
 * IST stack, and an int3 inside an NMI that interrupted this handler stacks below it instead
 * of overwriting it (what a shared IST stack would do: 3.3's debug-stack problem).
 * x86_64's iretq pops the stack pointer, so the gap may stay; on i386 it is closed again
 * unless a call was emulated into it.
 */
export function emitInt3Entry(ctx: SmpCodeContext, chain: readonly Int3ChainHandler[]): void {
  const { a, isa } = ctx;
  const w = isa.w;
  const F = ctx.savedBytes + w; // saved registers and the stall time stamp
  const done = ctx.local('int3_done');
  const stray = ctx.local('int3_stray');
  const words = isa.bits === 64 ? 5 : 3;
  const gap = isa.bits === 64 ? 16 : 4;
  a.label('int3');
  a.sub(isa.sp, gap).push(isa.ax);
  for (let i = 0; i < words; i++) a.mov(isa.ax, isa.word(isa.sp, w + gap + i * w)).mov(isa.word(isa.sp, w + i * w), isa.ax);
  a.pop(isa.ax);
  ctx.save();
  ctx.stallBegin();
  const outsideNmi = ctx.local('int3_outside_nmi');
  ctx.cpuStat(isa.ax);
  a.cmp(isa.word(isa.ax, STAT.inNmi), 0).je(outsideNmi);
  a.inc(isa.word(isa.ax, STAT.int3InNmi));
  a.label(outsideNmi);
  chain.forEach((handler, i) => {
    a.lea(isa.di, mem(isa.sp, F));
    a.call(handler.label);
    if (isa.bits === 32 && handler.emulatesCall === true) {
      const keep = ctx.local('int3_keep');
      a.cmp(isa.eax, 2).jne(keep);
      ctx.stallEnd('int3');
      ctx.restore();
      ctx.iret();
      a.label(keep);
    }
    if (i < chain.length - 1) a.test(isa.eax, isa.eax).jne(done);
    else a.test(isa.eax, isa.eax).je(stray);
  });
  a.label(done);
  ctx.stallEnd('int3');
  ctx.restore();
  if (isa.bits === 32) {
    a.push(isa.ax);
    for (let i = 2; i >= 0; i--) a.mov(isa.ax, isa.word(isa.sp, (i + 1) * w)).mov(isa.word(isa.sp, (i + 2) * w), isa.ax);
    a.pop(isa.ax).add(isa.sp, w);
  }
  ctx.iret();
  a.label(stray);
  a.lock().inc(ctx.v('strayInt3'));
  const dead = ctx.local('int3_dead');
  a.cli();
  a.label(dead).hlt().jmp(dead);
}
