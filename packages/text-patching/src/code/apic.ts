import type { CodeContext } from './context.js';

/**
 * How kernel code reaches the local APIC. Placeholder until cpu-core documents its APIC
 * interface: x2APIC ICR writes through `wrmsr`.
 */
export function emitSendIpiAllButSelf(ctx: CodeContext, vector: number): void {
  const { a, isa } = ctx;
  a.push(isa.ax).push(isa.cx).push(isa.dx);
  a.mov(isa.ecx, 0x830);
  a.mov(isa.eax, (3 << 18) | vector);
  a.xor(isa.edx, isa.edx);
  a.wrmsr();
  a.pop(isa.dx).pop(isa.cx).pop(isa.ax);
}

export function emitEoi(ctx: CodeContext): void {
  const { a, isa } = ctx;
  a.push(isa.ax).push(isa.cx).push(isa.dx);
  a.mov(isa.ecx, 0x80b);
  a.xor(isa.eax, isa.eax);
  a.xor(isa.edx, isa.edx);
  a.wrmsr();
  a.pop(isa.dx).pop(isa.cx).pop(isa.ax);
}
