import { MSR } from '@kernsim/cpu-core';
import type { SmpCodeContext } from './code-context.js';

/*
 * How kernel code reaches the local APIC: 3.3's x2APIC physical mode
 * (arch/x86/kernel/apic/x2apic_phys.c). Every send goes through `__x2apic_send_IPI_mask()`:
 * `x2apic_wrmsr_fence()` (an `mfence`, asm/apic.h: ICR writes through wrmsr are not
 * serialising, so earlier stores must be made visible first), then interrupts off, one ICR
 * write per destination CPU — 3.3 never uses the all-but-self shorthand in x2APIC mode,
 * `x2apic_send_IPI_allbutself()` loops over `cpu_online_mask` too. (Cluster mode, the other
 * x2APIC driver and 3.3's default without the `x2apic_phys` boot option, writes one logical
 * ICR per cluster of 16 CPUs; the model boots physical mode, as with `x2apic_phys`.)
 * The APIC id is the CPU's index here, so `rdmsr 0x802` stands in for `smp_processor_id()`.
 */

/** `__x2apic_send_IPI_mask()`'s frame around `body`: `x2apic_wrmsr_fence()`, then interrupts off until the ICR writes are done. */
function emitFencedSend(ctx: SmpCodeContext, body: () => void): void {
  const { a } = ctx;
  a.mfence();
  a.pushf().cli();
  body();
  a.popf();
}

/** `x2apic_send_IPI_mask(cpumask_of(edx), eax)`: the fence and one ICR write to the APIC id in edx. Clobbers cx. */
export function emitSendIpiTo(ctx: SmpCodeContext): void {
  const { a, isa } = ctx;
  emitFencedSend(ctx, () => {
    a.mov(isa.ecx, MSR.X2APIC_ICR);
    a.wrmsr();
  });
}

/** `x2apic_send_IPI_allbutself(vector)`: the fence, then one ICR write per other online CPU. Keeps every register. */
export function emitSendIpiAllButSelf(ctx: SmpCodeContext, vector: number): void {
  const { a, isa } = ctx;
  const next = ctx.local('ipi_next');
  const loop = ctx.local('ipi_loop');
  a.push(isa.ax).push(isa.bx).push(isa.cx).push(isa.dx).push(isa.si);
  emitFencedSend(ctx, () => {
    a.mov(isa.ecx, MSR.X2APIC_ID).rdmsr().mov(isa.esi, isa.eax); // this_cpu
    a.xor(isa.bx, isa.bx);
    a.label(loop);
    a.cmp(isa.bx, isa.si).je(next);
    // __x2apic_send_IPI_dest(per_cpu(x86_cpu_to_apicid, query_cpu), vector, APIC_DEST_PHYSICAL)
    a.mov(isa.dx, isa.bx);
    a.mov(isa.ecx, MSR.X2APIC_ICR);
    a.mov(isa.eax, vector);
    a.wrmsr();
    a.label(next);
    a.inc(isa.bx);
    a.cmp(isa.bx, ctx.v('onlineCpus')).jb(loop);
  });
  a.pop(isa.si).pop(isa.dx).pop(isa.cx).pop(isa.bx).pop(isa.ax);
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
