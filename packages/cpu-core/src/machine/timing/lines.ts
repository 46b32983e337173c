import type { CpuState } from '../cpu.js';
import type { Frame } from '../frame.js';

/**
 * Cache-line ownership, as much MESI as a store needs: a store (or the write half of a locked
 * operation) to a 64-byte line another CPU wrote last moves the line here first. Transfers of
 * one line serialise: a transfer starts when this CPU asks or when the line's previous
 * transfer ends, whichever is later, so N CPUs hammering one counter queue behind each other
 * and the last pays for all. Loads and first writes are free (the model does not track
 * shared copies or memory latency).
 */
export function chargeStore(c: CpuState, f: Frame, off: number): void {
  const owner = f.lineOwner ?? allocate(f);
  const busy = f.lineBusy!;
  const line = off >>> 6;
  const prev = owner[line]! - 1;
  if (prev === c.id) return;
  owner[line] = c.id + 1;
  if (prev < 0) {
    busy[line] = c.cycles;
    return;
  }
  const t = c.m.timing;
  const cost = Math.floor(prev / t.cpusPerSocket) === Math.floor(c.id / t.cpusPerSocket) ? t.lineLocal : t.lineRemote;
  const start = busy[line]! > c.cycles ? busy[line]! : c.cycles;
  const done = start + cost;
  c.lineTransfers++;
  c.lineStall += done - c.cycles;
  c.cycles = done;
  busy[line] = done;
}

function allocate(f: Frame): Int16Array {
  f.lineBusy = new Float64Array(64);
  f.lineOwner = new Int16Array(64);
  return f.lineOwner;
}
