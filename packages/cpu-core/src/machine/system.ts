import { PORT, R, VECTOR } from './arch.js';
import { fault } from './bus.js';
import type { CpuState } from './cpu.js';
import { HALTED } from './cpu.js';
import { sendIpi } from './events.js';
import { MSR_TABLE } from './msr-table.js';

const VENDOR = [0x756e6547, 0x6c65746e, 0x49656e69]; // "GenuineIntel" in ebx, ecx, edx order below

export function cpuid(c: CpuState): void {
  const leaf = c.lo[0]!;
  let a = 0;
  let b = 0;
  let cx = 0;
  let d = 0;
  if (leaf === 0) {
    a = 1;
    b = VENDOR[0]!;
    d = VENDOR[2]!;
    cx = VENDOR[1]!;
  } else if (leaf === 1) {
    a = 0x000206a7;
    b = (c.id & 0xff) << 24;
    d = 0x178bfbff;
  }
  c.lo[0] = a >>> 0;
  c.lo[3] = b >>> 0;
  c.lo[1] = cx >>> 0;
  c.lo[2] = d >>> 0;
  c.hi[0] = c.hi[1] = c.hi[2] = c.hi[3] = 0;
}

export function halt(c: CpuState): void {
  c.state = HALTED;
}

export function outPort(c: CpuState, port: number, value: number): void {
  const m = c.m;
  switch (port) {
    case PORT.SERIAL: {
      const ch = String.fromCharCode(value & 0xff);
      m.console += ch;
      c.cycles += m.serialCyclesPerByte;
      m.tracer?.console(c, ch);
      return;
    }
    case PORT.APIC_ICR_DEST:
      c.icrDest = value >>> 0;
      return;
    case PORT.APIC_ICR:
      sendIpi(c, value >>> 0, c.icrDest);
      return;
    case PORT.APIC_EOI:
      return;
    default:
  }
}

export function inPort(c: CpuState, port: number, size: number): number {
  if (port === PORT.APIC_ID) return c.id;
  if (port === PORT.SERIAL + 5) return 0x60; // line status: transmitter empty
  return size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff;
}

export function rdmsr(c: CpuState): void {
  const msr = c.lo[R.RCX]!;
  const read = MSR_TABLE.get(msr)?.read;
  if (read === undefined) fault(c, VECTOR.GP, 0, `rdmsr of unknown MSR 0x${msr.toString(16)}`);
  c.lo[R.RAX] = read.lo(c) >>> 0;
  c.hi[R.RAX] = 0;
  c.lo[R.RDX] = read.hi(c) >>> 0;
  c.hi[R.RDX] = 0;
}

export function wrmsr(c: CpuState): void {
  const msr = c.lo[R.RCX]!;
  const write = MSR_TABLE.get(msr)?.write;
  if (write === undefined) fault(c, VECTOR.GP, 0, `wrmsr of unknown MSR 0x${msr.toString(16)}`);
  write(c, c.lo[R.RAX]!, c.lo[R.RDX]!);
  // Writes to the x2APIC registers are not serialising (SDM vol. 3A 10.12.3); 3.3 fences before its ICR writes instead.
  if (msr >= X2APIC_FIRST && msr <= X2APIC_LAST) return;
  c.cycles += c.m.timing.wrmsrSerialising;
  c.serialize();
}

const X2APIC_FIRST = 0x800;
const X2APIC_LAST = 0x8ff;

export function movToCr(c: CpuState, cr: number, lo: number, hi: number): void {
  switch (cr) {
    case 0:
      c.cr0 = lo;
      break;
    case 2:
      c.cr2Lo = lo;
      c.cr2Hi = hi;
      break;
    case 3:
      c.cr3 = lo & 0xfffff000;
      c.flushTlb();
      break;
    case 4:
      c.cr4 = lo;
      break;
    default:
      fault(c, VECTOR.UD, -1, `mov to CR${cr}`);
  }
  c.serialize();
}

export function movFromCr(c: CpuState, cr: number): number {
  switch (cr) {
    case 0:
      c.vh = 0;
      return c.cr0 >>> 0;
    case 2:
      c.vh = c.cr2Hi;
      return c.cr2Lo;
    case 3:
      c.vh = 0;
      return c.cr3 >>> 0;
    case 4:
      c.vh = 0;
      return c.cr4;
    default:
      return fault(c, VECTOR.UD, -1, `mov from CR${cr}`);
  }
}
