import { imm, mem, reg } from '@kernsim/cpu-core';
import type { SmpCodeContext } from '@kernsim/kernel/smp';
import { ENTRY } from './patch-table.js';

/**
 * Writers of code bytes. Each takes a patch-table entry in `ax` and keeps every register
 * but the flags.
 *  - `text_poke_entry`: all bytes of the new instruction, first to last;
 *  - `poke_int3`: the first byte becomes `cc`;
 *  - `poke_tail`: every byte but the first;
 *  - `poke_head`: the first byte of the new instruction;
 *  - `poke_old_head`: the first byte of the old instruction (taking a breakpoint out again);
 *  - `probe_kernel_write_entry`: all bytes, a plain copy (3.3 ftrace's `ftrace_mod_code`
 *    writes with `probe_kernel_write()`, not text_poke).
 * All but the last go through `text_poke` as 3.3's (and 3.13's) `alternative.c` has it:
 * interrupts off, the copy through the writable alias, `sync_core()`, then every byte read
 * back through the text's own address and compared with the source — a difference is a
 * `BUG_ON` (`ud2`, which the #UD handler turns into a dead CPU and `bugCount`).
 */
export function emitTextPoke(ctx: SmpCodeContext): void {
  const { a, isa } = ctx;
  emitTextPokeCore(ctx);

  // (ax = entry) -> di = where to write, si = source, cx = length, dx = the text address.
  const poke = (name: string, from: number, source: 'new' | 'old' | 'int3', length: 'entry' | 1): void => {
    a.label(name);
    a.push(isa.cx).push(isa.dx).push(isa.si).push(isa.di);
    pokeAddress(ctx);
    if (source === 'int3') a.mov(isa.si, imm('int3_insn'));
    else a.lea(isa.si, mem(isa.ax, source === 'new' ? ENTRY.newBytes : ENTRY.oldBytes));
    if (length === 1) a.mov(isa.ecx, 1);
    else a.movzx(isa.ecx, isa.byte(isa.ax, ENTRY.len));
    a.mov(isa.dx, isa.word(isa.ax, ENTRY.addr));
    if (from > 0) a.add(isa.di, from).add(isa.si, from).add(isa.dx, from).sub(isa.ecx, from);
    a.push(isa.ax).call('text_poke').pop(isa.ax);
    a.pop(isa.di).pop(isa.si).pop(isa.dx).pop(isa.cx);
    a.ret();
  };
  poke('text_poke_entry', 0, 'new', 'entry');
  poke('poke_tail', 1, 'new', 'entry');
  poke('poke_int3', 0, 'int3', 1);
  poke('poke_head', 0, 'new', 1);
  poke('poke_old_head', 0, 'old', 1);

  a.label('probe_kernel_write_entry');
  a.push(isa.cx).push(isa.dx).push(isa.si).push(isa.di);
  pokeAddress(ctx);
  a.lea(isa.si, mem(isa.ax, ENTRY.newBytes));
  a.movzx(isa.ecx, isa.byte(isa.ax, ENTRY.len));
  a.call('poke_memcpy');
  a.pop(isa.di).pop(isa.si).pop(isa.dx).pop(isa.cx);
  a.ret();
}

/**
 * `text_poke(di = alias, si = source, cx = length, dx = text address)`, clobbering ax, cx,
 * si, di; and `poke_memcpy(di, si, cx)`, the copy (a 5-byte instruction is one byte and one
 * 4-byte store, as the kernel's memcpy does it, a 4-byte tail one store; other lengths byte
 * by byte), clobbering cx,
 * si, di and dl.
 */
function emitTextPokeCore(ctx: SmpCodeContext): void {
  const { a, isa } = ctx;
  const dl = reg.dl;
  a.label('poke_memcpy');
  const loop = ctx.local('poke');
  const done = ctx.local('poke_done');
  const four = ctx.local('poke_four');
  a.push(isa.dx);
  a.cmp(isa.ecx, 4).je(four);
  a.cmp(isa.ecx, 5).jne(loop);
  a.mov(dl, isa.byte(isa.si)).mov(isa.byte(isa.di), dl);
  a.inc(isa.si).inc(isa.di);
  a.label(four);
  a.mov(isa.edx, isa.dword(isa.si)).mov(isa.dword(isa.di), isa.edx);
  a.jmp(done);
  a.label(loop);
  a.test(isa.ecx, isa.ecx).je(done);
  a.mov(dl, isa.byte(isa.si)).mov(isa.byte(isa.di), dl);
  a.inc(isa.si).inc(isa.di).dec(isa.ecx).jmp(loop);
  a.label(done);
  a.pop(isa.dx);
  a.ret();

  a.label('text_poke');
  a.pushf().cli(); // local_irq_save()
  a.push(isa.si).push(isa.cx);
  a.call('poke_memcpy');
  a.call('sync_core');
  a.pop(isa.cx).pop(isa.si);
  // for (i = 0; i < len; i++) BUG_ON(((char *)addr)[i] != ((char *)opcode)[i]);
  const check = ctx.local('poke_check');
  const checked = ctx.local('poke_checked');
  a.mov(isa.di, isa.dx);
  a.label(check);
  a.test(isa.ecx, isa.ecx).je(checked);
  a.mov(reg.al, isa.byte(isa.di)).cmp(reg.al, isa.byte(isa.si));
  const same = ctx.local('poke_same');
  a.je(same);
  a.ud2();
  a.label(same);
  a.inc(isa.si).inc(isa.di).dec(isa.ecx).jmp(check);
  a.label(checked);
  a.popf(); // local_irq_restore()
  a.ret();
  a.label('int3_insn').db(0xcc);
}

/** `di` = where entry `ax`'s bytes are written: its address plus the alias distance. Clobbers dx. */
function pokeAddress(ctx: SmpCodeContext): void {
  const { a, isa } = ctx;
  a.mov(isa.di, isa.word(isa.ax, ENTRY.addr));
  if (isa.bits === 64) a.movsx(isa.dx, isa.dword(isa.ax, ENTRY.pokeDelta));
  else a.mov(isa.dx, isa.dword(isa.ax, ENTRY.pokeDelta));
  a.add(isa.di, isa.dx);
}
