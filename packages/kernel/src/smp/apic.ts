import { MSR } from '@kernsim/cpu-core';
import type { SmpCodeContext } from './code-context.js';

/** How kernel code reaches the local APIC: x2APIC register writes through `wrmsr` (cpu-core's `MSR`). */
export function emitSendIpiAllButSelf(ctx: SmpCodeContext, vector: number): void {
  const { a, isa } = ctx;
  a.push(isa.ax).push(isa.cx).push(isa.dx);
  a.mov(isa.ecx, MSR.X2APIC_ICR);
  a.mov(isa.eax, (3 << 18) | vector);
  a.xor(isa.edx, isa.edx);
  a.wrmsr();
  a.pop(isa.dx).pop(isa.cx).pop(isa.ax);
}

export function emitEoi(ctx: SmpCodeContext): void {
  const { a, isa } = ctx;
  a.push(isa.ax).push(isa.cx).push(isa.dx);
  a.mov(isa.ecx, MSR.X2APIC_EOI);
  a.xor(isa.eax, isa.eax);
  a.xor(isa.edx, isa.edx);
  a.wrmsr();
  a.pop(isa.dx).pop(isa.cx).pop(isa.ax);
}
