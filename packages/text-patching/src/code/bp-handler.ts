import { mem } from '@kernsim/cpu-core';
import { emitBsearch } from './bsearch.js';
import type { CodeContext } from './context.js';
import { BP_MODE, ENTRY, KPROBE_ENTRY, STAT } from './layout.js';

/**
 * `poke_int3_handler(di = &saved ip)` -> ax: the patch-table part of the #BP path. A trap at
 * an address in the table (while a patch is in progress) continues as the entry's mode says:
 * `skip` resumes after the instruction being changed (the article: the site acts as a nop
 * meanwhile), `handler` continues at the address given with the patch (3.13's
 * `text_poke_bp(..., handler)`), `emulate` executes the new instruction (today's
 * `int3_emulate_call/jmp`). Returns 0 when the trap is not ours, 1 when handled, 2 when
 * handled by emulating a call on i386 (the return address went into the slot just above
 * the frame, which the i386 entry reserved).
 *
 * The saved ip, cs, flags, sp follow each other a word apart, both in a hardware frame and
 * in `struct pt_regs`, so this also serves as a hook called from a kernel's `do_int3`.
 * x86_64's emulated call writes just below the interrupted stack pointer, into the gap the
 * entry leaves.
 */
export function emitPokeInt3Handler(ctx: CodeContext): void {
  const { a, isa } = ctx;
  const w = isa.w;
  const no = ctx.local('poke_no');
  const out = ctx.local('poke_out');
  const skip = ctx.local('poke_skip');
  const handler = ctx.local('poke_handler');
  const emulate = ctx.local('poke_emulate');
  const call = ctx.local('poke_call');
  const jmp = ctx.local('poke_jmp');

  a.label('poke_int3_handler');
  a.push(isa.bx).push(isa.cx).push(isa.dx).push(isa.si).push(isa.di);
  a.cmp(ctx.v('bpInProgress'), 0).je(no);
  a.mov(isa.di, isa.word(isa.di)).dec(isa.di);
  emitBsearch(ctx, { vec: 'bpVec', nr: 'bpNr', shift: ENTRY.shift }, no);
  a.lock().inc(ctx.v('bpHits'));
  a.mov(isa.si, isa.word(isa.sp)); // &saved ip
  a.movzx(isa.ecx, isa.byte(isa.ax, ENTRY.mode));
  a.cmp(isa.ecx, BP_MODE.handler).je(handler);
  a.cmp(isa.ecx, BP_MODE.emulate).je(emulate);

  a.label(skip);
  a.movzx(isa.edx, isa.byte(isa.ax, ENTRY.len));
  a.add(isa.dx, isa.word(isa.ax, ENTRY.addr));
  a.mov(isa.word(isa.si), isa.dx).jmp(out);

  a.label(handler);
  a.mov(isa.dx, isa.word(isa.ax, ENTRY.handler));
  a.mov(isa.word(isa.si), isa.dx).jmp(out);

  a.label(emulate);
  a.movzx(isa.ecx, isa.byte(isa.ax, ENTRY.newBytes));
  a.cmp(isa.ecx, 0xe8).je(call);
  a.cmp(isa.ecx, 0xe9).je(jmp);
  a.jmp(skip); // the new instruction is a nop: continue after it
  // dx = target of the new rel32 instruction; bx = the address after it
  const target = (): void => {
    if (isa.bits === 64) a.movsx(isa.dx, isa.dword(isa.ax, ENTRY.newBytes + 1));
    else a.mov(isa.dx, isa.dword(isa.ax, ENTRY.newBytes + 1));
    a.mov(isa.bx, isa.word(isa.ax, ENTRY.addr)).add(isa.bx, 5);
    a.add(isa.dx, isa.bx);
  };
  a.label(jmp);
  target();
  a.mov(isa.word(isa.si), isa.dx).jmp(out);
  a.label(call);
  target();
  a.mov(isa.word(isa.si), isa.dx);
  if (isa.bits === 64) {
    a.mov(isa.cx, isa.word(isa.si, 3 * w));
    a.sub(isa.cx, w).mov(isa.word(isa.cx), isa.bx);
    a.mov(isa.word(isa.si, 3 * w), isa.cx);
  } else {
    a.mov(isa.word(isa.si, 3 * w), isa.bx);
    a.mov(isa.eax, 2);
    a.jmp(`${out}_ret`);
  }
  a.label(out);
  a.mov(isa.eax, 1);
  a.label(`${out}_ret`);
  a.pop(isa.di).pop(isa.si).pop(isa.dx).pop(isa.cx).pop(isa.bx);
  a.ret();
  a.label(no);
  a.xor(isa.eax, isa.eax);
  a.jmp(`${out}_ret`);
}

/**
 * `kprobe_int3_handler(di = &saved ip)` -> ax: a trap on an armed kprobe runs the probe's
 * pre-handler and continues at its out-of-line slot (the probed instruction, copied, then a
 * jump back: a "boosted" probe that needs no single step).
 */
export function emitKprobeInt3Handler(ctx: CodeContext): void {
  const { a, isa } = ctx;
  const no = ctx.local('kp_no');
  a.label('kprobe_int3_handler');
  a.push(isa.bx).push(isa.cx).push(isa.dx).push(isa.si).push(isa.di);
  a.cmp(ctx.v('kprobeNr'), 0).je(no);
  a.mov(isa.di, isa.word(isa.di)).dec(isa.di);
  emitBsearch(ctx, { vec: 'kprobeVec', nr: 'kprobeNr', shift: KPROBE_ENTRY.shift }, no);
  a.push(isa.ax);
  a.call(isa.word(isa.ax, KPROBE_ENTRY.handler));
  a.pop(isa.ax);
  a.mov(isa.dx, isa.word(isa.ax, KPROBE_ENTRY.slot));
  a.mov(isa.si, isa.word(isa.sp)).mov(isa.word(isa.si), isa.dx);
  a.mov(isa.eax, 1);
  const out = ctx.local('kp_out');
  a.jmp(out);
  a.label(no);
  a.xor(isa.eax, isa.eax);
  a.label(out);
  a.pop(isa.di).pop(isa.si).pop(isa.dx).pop(isa.cx).pop(isa.bx);
  a.ret();
}

/**
 * The #BP vector's entry, `int3`: patch table first (as today's do_int3 calls
 * poke_int3_handler first), then kprobes; an int3 nobody claims is counted and stops the
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
export function emitInt3Entry(ctx: CodeContext): void {
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
  a.lea(isa.di, mem(isa.sp, F));
  a.call('poke_int3_handler');
  if (isa.bits === 32) {
    const keep = ctx.local('int3_keep');
    a.cmp(isa.eax, 2).jne(keep);
    ctx.stallEnd('int3');
    ctx.restore();
    ctx.iret();
    a.label(keep);
  }
  a.test(isa.eax, isa.eax).jne(done);
  a.lea(isa.di, mem(isa.sp, F));
  a.call('kprobe_int3_handler');
  a.test(isa.eax, isa.eax).je(stray);
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
