import { mem, reg } from '@kernsim/cpu-core';
import type { SmpCodeContext } from '@kernsim/kernel/smp';
import { ENTRY } from './patch-table.js';

/**
 * Writers of code bytes. Each takes a patch-table entry in `ax` and keeps every register
 * but the flags.
 *  - `text_poke_entry`: all bytes of the new instruction, first to last (text_poke's memcpy).
 *  - `poke_int3`: the first byte becomes `cc`.
 *  - `poke_tail`: every byte but the first.
 *  - `poke_head`: the first byte of the new instruction.
 */
export function emitTextPoke(ctx: SmpCodeContext): void {
  const { a, isa } = ctx;
  const dl = reg.dl;

  // memcpy as the kernel's text_poke does it: a 5-byte instruction is one byte and one
  // 4-byte store; other lengths go byte by byte.
  const copy = (name: string, from: number): void => {
    a.label(name);
    a.push(isa.cx).push(isa.dx).push(isa.si).push(isa.di);
    pokeAddress(ctx);
    a.lea(isa.si, mem(isa.ax, ENTRY.newBytes));
    a.movzx(isa.ecx, isa.byte(isa.ax, ENTRY.len));
    if (from > 0) a.add(isa.di, from).add(isa.si, from).sub(isa.ecx, from);
    const loop = ctx.local('poke');
    const done = ctx.local('poke_done');
    const bytewise = ctx.local('poke_bytes');
    a.cmp(isa.ecx, 4 + (from === 0 ? 1 : 0)).jne(bytewise);
    if (from === 0) {
      a.mov(dl, isa.byte(isa.si)).mov(isa.byte(isa.di), dl);
      a.mov(isa.edx, isa.dword(isa.si, 1)).mov(isa.dword(isa.di, 1), isa.edx);
    } else {
      a.mov(isa.edx, isa.dword(isa.si)).mov(isa.dword(isa.di), isa.edx);
    }
    a.jmp(done);
    a.label(bytewise);
    a.label(loop);
    a.test(isa.ecx, isa.ecx).je(done);
    a.mov(dl, isa.byte(isa.si)).mov(isa.byte(isa.di), dl);
    a.inc(isa.si).inc(isa.di).dec(isa.ecx).jmp(loop);
    a.label(done);
    a.pop(isa.di).pop(isa.si).pop(isa.dx).pop(isa.cx);
    a.ret();
  };
  copy('text_poke_entry', 0);
  copy('poke_tail', 1);

  a.label('poke_int3');
  a.push(isa.di).push(isa.dx);
  pokeAddress(ctx);
  a.mov(isa.byte(isa.di), 0xcc);
  a.pop(isa.dx).pop(isa.di).ret();

  a.label('poke_head');
  a.push(isa.di).push(isa.dx);
  pokeAddress(ctx);
  a.mov(dl, isa.byte(isa.ax, ENTRY.newBytes)).mov(isa.byte(isa.di), dl);
  a.pop(isa.dx).pop(isa.di).ret();
}

/** `di` = where entry `ax`'s bytes are written: its address plus the alias distance. Clobbers dx. */
function pokeAddress(ctx: SmpCodeContext): void {
  const { a, isa } = ctx;
  a.mov(isa.di, isa.word(isa.ax, ENTRY.addr));
  if (isa.bits === 64) a.movsx(isa.dx, isa.dword(isa.ax, ENTRY.pokeDelta));
  else a.mov(isa.dx, isa.dword(isa.ax, ENTRY.pokeDelta));
  a.add(isa.di, isa.dx);
}
