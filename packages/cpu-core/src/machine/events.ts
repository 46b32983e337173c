import type { CpuState } from './cpu.js';
import { HALTED, RUNNING } from './cpu.js';

/**
 * Raises an NMI on a CPU. If none is pending it becomes pending (and counts as latched when
 * NMIs are blocked); otherwise the hardware's single latch is full and the NMI is lost.
 */
export function raiseNmi(c: CpuState, source: string): void {
  if (c.state !== RUNNING && c.state !== HALTED) return;
  c.nmi[0]!++;
  if (c.nmiPending) {
    c.nmi[3]!++;
    c.m.tracer?.nmi(c, 'dropped', source);
    return;
  }
  c.nmiPending = true;
  if (c.nmiBlocked) {
    c.nmi[2]!++;
    c.m.tracer?.nmi(c, 'latched', source);
  } else c.m.tracer?.nmi(c, 'raised', source);
}

/** Makes a maskable vector pending (an IRR bit: raising it again while pending merges). */
export function raiseIrq(c: CpuState, vector: number): void {
  if (c.state !== RUNNING && c.state !== HALTED) return;
  if (c.irq[vector] === 0) {
    c.irq[vector] = 1;
    c.irqCount++;
  }
}

/** Sends an IPI with an xAPIC ICR-low layout: vector bits 0-7, delivery mode 8-10 (0 fixed, 4 NMI), shorthand 18-19. */
export function sendIpi(from: CpuState, icr: number, dest: number): void {
  const vector = icr & 0xff;
  const mode = (icr >>> 8) & 7;
  const shorthand = (icr >>> 18) & 3;
  const cpus = from.m.cpus;
  from.ipisSent++;
  const hit = (c: CpuState): void => {
    c.ipisReceived++;
    if (mode === 4) raiseNmi(c, `IPI from CPU ${from.id}`);
    else raiseIrq(c, vector);
  };
  if (shorthand === 0) {
    if (dest === 0xff || dest === 0xffffffff) for (const c of cpus) hit(c);
    else {
      const c = cpus[dest];
      if (c) hit(c);
    }
  } else if (shorthand === 1) hit(from);
  else for (const c of cpus) if (shorthand === 2 || c !== from) hit(c);
}
