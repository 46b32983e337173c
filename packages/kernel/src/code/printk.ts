import { byte } from '@kernsim/cpu-core';
import type { BuildContext } from '../build-context.js';

/** Port of the serial line's transmit register (COM1). */
export const SERIAL_PORT = 0x3f8;

/**
 * Console output through the slow serial port: `serial_putc` (di = character),
 * `puts` (di = NUL-terminated string), `put_hex` (di = value, one word of hex digits),
 * `put_nl`. All preserve every register.
 */
export function emitPrintk(ctx: BuildContext): void {
  const { a, isa } = ctx;
  const { ax, dx, di, si } = isa;

  a.label('serial_putc');
  a.push(ax).push(dx);
  a.mov(ax, di);
  a.mov(dx, SERIAL_PORT);
  // One `out` per byte; the port model charges the line's time per byte.
  a.out(isa.dx16, isa.al);
  a.pop(dx).pop(ax);
  a.ret();

  a.label('puts');
  a.push(di).push(si);
  a.mov(si, di);
  a.label('.Lputs_loop');
  a.movzx(isa.edi, byte(si));
  a.test(di, di);
  a.jz('.Lputs_done');
  a.call('serial_putc');
  a.add(si, 1);
  a.jmp('.Lputs_loop');
  a.label('.Lputs_done');
  a.pop(si).pop(di);
  a.ret();

  a.label('put_nl');
  a.push(di);
  a.mov(di, 10);
  a.call('serial_putc');
  a.pop(di);
  a.ret();
  emitPutNumbers(ctx);
}

/** `put_dec(di)` and `put_hex(di)`. */
function emitPutNumbers(ctx: BuildContext): void {
  const { a, isa } = ctx;
  const { ax, cx, di, si } = isa;
  // Small decimal numbers (pids, CPU numbers below 1000), by repeated subtraction.
  a.label('put_dec');
  a.push(ax).push(cx).push(di);
  a.mov(ax, di);
  a.mov(cx, 0);
  a.label('.Lput_dec_100');
  a.cmp(ax, 100);
  a.jb('.Lput_dec_tens');
  a.sub(ax, 100);
  a.add(cx, 1);
  a.jmp('.Lput_dec_100');
  a.label('.Lput_dec_tens');
  a.test(cx, cx);
  a.jz('.Lput_dec_no_hundreds');
  a.lea(di, isa.word(cx, 0x30));
  a.call('serial_putc');
  a.label('.Lput_dec_no_hundreds');
  a.mov(di, cx);
  a.mov(cx, 0);
  a.label('.Lput_dec_10');
  a.cmp(ax, 10);
  a.jb('.Lput_dec_units');
  a.sub(ax, 10);
  a.add(cx, 1);
  a.jmp('.Lput_dec_10');
  a.label('.Lput_dec_units');
  a.or(di, cx);
  a.jz('.Lput_dec_no_tens');
  a.lea(di, isa.word(cx, 0x30));
  a.call('serial_putc');
  a.label('.Lput_dec_no_tens');
  a.lea(di, isa.word(ax, 0x30));
  a.call('serial_putc');
  a.pop(di).pop(cx).pop(ax);
  a.ret();

  // Hex digits, most significant first, looked up in a 16-byte table.
  a.label('put_hex');
  a.push(ax).push(cx).push(di).push(si);
  a.mov(si, di);
  a.mov(cx, isa.w * 2);
  a.label('.Lput_hex_loop');
  a.mov(ax, si);
  a.shr(ax, isa.bits - 4);
  a.movzx(isa.edi, byte({ base: ax, disp: isa.abs(ctx.d('hex_digits')) }));
  a.call('serial_putc');
  a.shl(si, 4);
  a.sub(cx, 1);
  a.jnz('.Lput_hex_loop');
  a.pop(si).pop(di).pop(cx).pop(ax);
  a.ret();
}
