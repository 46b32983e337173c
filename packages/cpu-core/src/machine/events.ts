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

/**
 * Sends an IPI with an xAPIC ICR-low layout: vector bits 0-7, delivery mode 8-10 (0 fixed,
 * 4 NMI), shorthand 18-19. The sender pays one ICR write (per call: a loop over destinations
 * pays per destination, a shorthand once); each destination gets the interrupt `ipiLatency`
 * cycles later on the sender's clock (at once under flat timing).
 */
/**
 * Sends an IPI. `dest` is an APIC id: in the xAPIC layout (the port ICR) 0xff is the broadcast
 * id, but through the x2APIC ICR MSR ids are 32 bits and only 0xffffffff broadcasts — CPU 255
 * is an ordinary destination there (SDM vol. 3, 10.12.9).
 */
export function sendIpi(from: CpuState, icr: number, dest: number, x2apic = false): void {
  const vector = icr & 0xff;
  const what = from.id * 512 + (((icr >>> 8) & 7) === 4 ? 256 : vector);
  const shorthand = (icr >>> 18) & 3;
  const cpus = from.m.cpus;
  const t = from.m.timing;
  from.ipisSent++;
  from.cycles += t.icrWrite;
  const at = from.cycles + t.ipiLatency;
  const hit = (c: CpuState): void => {
    c.ipisReceived++;
    // An offline or dead CPU's APIC takes nothing: the IPI is lost, not held for a later start.
    if (c.state !== RUNNING && c.state !== HALTED) return;
    if (t.ipiLatency === 0) arrive(c, what);
    else queueIpi(c, at, what);
  };
  if (shorthand === 0) {
    if (dest === 0xffffffff || (!x2apic && dest === 0xff)) for (const c of cpus) hit(c);
    else {
      const c = cpus[dest];
      if (c) hit(c);
    }
  } else if (shorthand === 1) hit(from);
  else for (const c of cpus) if (shorthand === 2 || c !== from) hit(c);
}

function queueIpi(c: CpuState, at: number, what: number): void {
  let i = c.ipiAt.length;
  while (i > 0 && c.ipiAt[i - 1]! > at) i--;
  c.ipiAt.splice(i, 0, at);
  c.ipiWhat.splice(i, 0, what);
  c.refreshNextEvent();
}

function arrive(c: CpuState, what: number): void {
  if (c.state !== RUNNING && c.state !== HALTED) return;
  c.ipisDelivered++;
  const code = what % 512;
  if (code === 256) raiseNmi(c, `IPI from CPU ${Math.floor(what / 512)}`);
  else raiseIrq(c, code);
}

/** Makes the IPIs whose arrival time has come pending at the CPU. */
export function arriveIpis(c: CpuState): void {
  while (c.ipiAt.length > 0 && c.ipiAt[0]! <= c.cycles) {
    c.ipiAt.shift();
    arrive(c, c.ipiWhat.shift()!);
  }
}
