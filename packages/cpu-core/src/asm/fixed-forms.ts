import { Instruction, Register, RepPrefixKind } from 'iced-x86';
import { AsmError } from './errors.js';
import { ACC, bad, checkMem, form, render } from './form.js';
import type { Form, Src } from './form.js';
import { code, create } from './iced.js';
import type { Bitness } from './iced.js';
import { describe, isMem, isReg, toImm } from './operands.js';
import type { ImmLike } from './operands.js';

/*
 * Instructions whose encoding is picked by name rather than by operand shape: port I/O
 * through the accumulator, string operations, no-operand instructions, an immediate-only
 * or memory-only operand, and the recommended multi-byte nops.
 */

export function inOut(op: 'In' | 'Out', port: Src, data: Src, bitness: Bitness): Form {
  const what = op === 'In' ? render('in', [data, port]) : render('out', [port, data]);
  if (!isReg(data) || data.class !== 'gpr' || data.number !== 0 || data.size === 8 || data.name.endsWith('h')) {
    throw bad(what, 'the data register must be %al, %ax or %eax');
  }
  const acc = ACC[data.size] ?? '';
  if (isReg(port)) {
    if (port.name !== 'dx') throw bad(what, 'a port register must be %dx');
    const c = code(op === 'In' ? `In_${acc}_DX` : `Out_DX_${acc}`);
    return form(what, [], false, (ctx) => create(c, op === 'In' ? [{ r: data }, { r: port }] : [{ r: port }, { r: data }], ctx, bitness));
  }
  if (isMem(port)) throw bad(what, 'a port is %dx or an 8-bit immediate');
  const p = toImm(port);
  if (p.label !== undefined || p.value < 0n || p.value > 255n) throw new AsmError('KERNSIM_ASM_RANGE', `${what}: an immediate port must be 0..255`);
  const v = Number(p.value);
  const c = code(op === 'In' ? `In_${acc}_imm8` : `Out_imm8_${acc}`);
  return form(what, [], false, () => (op === 'In' ? Instruction.createRegU32(c, data.id, v) : Instruction.createU32Reg(c, v, data.id)));
}

export type StringOp = 'movs' | 'stos';

export function stringOp(op: StringOp, size: 1 | 2 | 4 | 8, rep: boolean, bitness: Bitness): Form {
  if (size === 8 && bitness !== 64) throw bad(`${op}q`, 'quadword string operations exist only in 64-bit mode');
  const suffix = ({ 1: 'b', 2: 'w', 4: 'd', 8: 'q' } as const)[size];
  const what = `${rep ? 'rep ' : ''}${op}${suffix}`;
  const prefix = rep ? RepPrefixKind.Repe : RepPrefixKind.None;
  return form(what, [], false, () => {
    if (op === 'movs') {
      switch (suffix) {
        case 'b': return Instruction.createMovsb(bitness, Register.None, prefix);
        case 'w': return Instruction.createMovsw(bitness, Register.None, prefix);
        case 'd': return Instruction.createMovsd(bitness, Register.None, prefix);
        case 'q': return Instruction.createMovsq(bitness, Register.None, prefix);
      }
    }
    switch (suffix) {
      case 'b': return Instruction.createStosb(bitness, prefix);
      case 'w': return Instruction.createStosw(bitness, prefix);
      case 'd': return Instruction.createStosd(bitness, prefix);
      case 'q': return Instruction.createStosq(bitness, prefix);
    }
  });
}

/** Instructions without operands, by iced code name per mode (undefined: not encodable in that mode). */
export function plain(mnemonic: string, names: { readonly 32?: string; readonly 64?: string }, bitness: Bitness): Form {
  const name = names[bitness];
  if (name === undefined) throw bad(mnemonic, `not encodable in ${String(bitness)}-bit mode`);
  const c = code(name);
  return form(name, [], false, (ctx) => create(c, [], ctx, bitness));
}

export function withImm(mnemonic: string, name: string, value: ImmLike, max: number): Form {
  const i = toImm(value);
  if (i.label !== undefined || i.value < 0n || i.value > BigInt(max)) {
    throw new AsmError('KERNSIM_ASM_RANGE', `${mnemonic}: immediate must be 0..${String(max)}, got ${describe(i)}`);
  }
  const c = code(name);
  const v = Number(i.value);
  return form(`${name} ${String(v)}`, [], false, () => Instruction.createU32(c, v));
}

/** Instructions whose only operand is memory (lidt, sidt, invlpg). */
export function memoryOnly(mnemonic: string, names: { readonly 32?: string; readonly 64?: string }, m: Src, bitness: Bitness): Form {
  const what = render(mnemonic, [m]);
  const name = names[bitness];
  if (name === undefined) throw bad(what, `not encodable in ${String(bitness)}-bit mode`);
  if (!isMem(m)) throw bad(what, `${mnemonic} takes a memory operand`);
  checkMem(what, m, bitness);
  const c = code(name);
  return form(what, [m], false, (ctx) => create(c, [{ m }], ctx, bitness));
}

/** Multi-byte nops as the SDM recommends them (table "Recommended Multi-Byte Sequence of NOP"). */
export const NOPS: readonly (readonly number[])[] = [
  [],
  [0x90],
  [0x66, 0x90],
  [0x0f, 0x1f, 0x00],
  [0x0f, 0x1f, 0x40, 0x00],
  [0x0f, 0x1f, 0x44, 0x00, 0x00],
  [0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00],
  [0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00],
  [0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
  [0x66, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
];
