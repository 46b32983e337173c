import { emitInt3TableLookup } from '@kernsim/kernel/smp';
import type { SmpCodeContext } from '@kernsim/kernel/smp';
import { BP_MODE, ENTRY } from './patch-table.js';

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
export function emitPokeInt3Handler(ctx: SmpCodeContext): void {
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
  emitInt3TableLookup(ctx, { guard: 'bpInProgress', vec: 'bpVec', nr: 'bpNr', shift: ENTRY.shift }, no);
  // No machine-wide count here: 3.13's poke_int3_handler only reads shared lines, and a
  // counter every trapping CPU writes would serialise the traps on its cache line.
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
