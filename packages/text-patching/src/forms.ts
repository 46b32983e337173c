import { TextPatchingError } from './errors.js';

/** The byte forms the kernel's patching users write, as the CPU fetches them. */

/** `int3`: one byte, so it can replace an instruction's first byte without tearing it. */
export const INT3 = 0xcc;
/** `nopl 0x0(%rax,%rax,1)`: the 5-byte nop gcc's `-pg`/mcount site becomes (ideal_nops[NOP_ATOMIC5]). */
export const NOP5: readonly number[] = [0x0f, 0x1f, 0x44, 0x00, 0x00];
export const CALL_REL32 = 0xe8;
export const JMP_REL32 = 0xe9;
export const REL32_SIZE = 5;

function rel32(site: bigint, target: bigint): number {
  const rel = target - (site + BigInt(REL32_SIZE));
  if (rel < -(1n << 31n) || rel >= 1n << 31n) {
    throw new TextPatchingError(
      'KERNSIM_PATCH_BAD_SITE',
      `a rel32 from 0x${site.toString(16)} reaches ±2 GiB; target 0x${target.toString(16)} is ${rel.toString()} bytes away`,
    );
  }
  return Number(BigInt.asUintN(32, rel));
}

function withRel32(opcode: number, site: bigint, target: bigint): number[] {
  const r = rel32(site, target);
  return [opcode, r & 0xff, (r >>> 8) & 0xff, (r >>> 16) & 0xff, (r >>> 24) & 0xff];
}

/** `e8 rel32`: the call ftrace writes over the nop (ftrace_call_replace). */
export function callBytes(site: bigint, target: bigint): number[] {
  return withRel32(CALL_REL32, site, target);
}

/** `e9 rel32`: the jump a static key or an optimized kprobe writes. */
export function jmpBytes(site: bigint, target: bigint): number[] {
  return withRel32(JMP_REL32, site, target);
}

/** Where an `e8`/`e9 rel32` at `site` goes, or undefined for any other bytes. */
export function rel32Target(site: bigint, bytes: ArrayLike<number>): bigint | undefined {
  const op = bytes[0];
  if (bytes.length < REL32_SIZE || (op !== CALL_REL32 && op !== JMP_REL32)) return undefined;
  let v = 0;
  for (let i = 4; i >= 1; i--) v = v * 256 + (bytes[i] ?? 0);
  return site + BigInt(REL32_SIZE) + BigInt.asIntN(32, BigInt(v));
}

/**
 * The four states the breakpoint method moves a site through, as any other CPU may see it:
 * old, `cc` + old tail, `cc` + new tail, new. The article's listings are these four.
 */
export function breakpointStates(oldBytes: readonly number[], newBytes: readonly number[]): readonly (readonly number[])[] {
  if (oldBytes.length !== newBytes.length || oldBytes.length === 0) {
    throw new TextPatchingError(
      'KERNSIM_PATCH_BAD_SITE',
      `old and new instructions must have the same, non-zero length; got ${String(oldBytes.length)} and ${String(newBytes.length)}`,
    );
  }
  return [oldBytes, [INT3, ...oldBytes.slice(1)], [INT3, ...newBytes.slice(1)], newBytes];
}

export function hex(bytes: ArrayLike<number>): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}

export function sameBytes(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
