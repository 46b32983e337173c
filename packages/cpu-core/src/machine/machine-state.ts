import { CpuError } from '../errors.js';
import type { AddressSpace, MachineCore } from './core.js';
import { OFFLINE } from './cpu.js';
import { captureFrames, captureTables, restoreFrames, restoreTables } from './frame-image.js';
import type { FrameImage, TablesImage } from './frame-image.js';
import { hashChunk } from './frame.js';
import type { Frame } from './frame.js';
import type { ScheduleMark } from './schedule.js';
import { hashCpu, loadCpus, saveCpus } from './snapshot.js';
import type { CpusImage } from './snapshot.js';

/** What a snapshot must match to be restored into a machine. */
export interface MachineIdentity {
  readonly arch: string;
  readonly cpus: number;
  readonly memoryMiB: number;
  readonly timing: string;
}

/** What the Machine keeps outside the core that a snapshot must carry. */
export interface MachineExtras {
  readonly rng: number;
  readonly rr: number;
  readonly mapVersion: number;
  readonly schedule: ScheduleMark;
  readonly identity: MachineIdentity;
}

/** The whole machine at one moment; frames' images are shared with other snapshots and their bytes with the live machine (copy-on-write). */
export interface MachineState {
  readonly frames: readonly FrameImage[];
  readonly tables: TablesImage;
  readonly spaces: readonly AddressSpace[];
  readonly cpus: CpusImage;
  readonly watches: readonly { phys: number; len: number; label: string }[];
  readonly scalars: { readonly nextPfn: number; readonly writeSeq: number; readonly memH1: number; readonly memH2: number; readonly console: string };
  readonly extras: MachineExtras;
}

/**
 * The state hash: memory is hashed per 256-byte chunk into a running XOR sum, and only the
 * chunks written since the last call are rehashed; the CPUs are mixed in every time.
 */
export function machineHash(core: MachineCore, mapVersion: number, out: Int32Array): string {
  machineHashWords(core, mapVersion, out);
  return (out[0]! >>> 0).toString(16).padStart(8, '0') + (out[1]! >>> 0).toString(16).padStart(8, '0');
}

/**
 * The same hash as two 32-bit words in `out[0]`, `out[1]` (no string: the explorer's visited set).
 * Given room for four, `out[2]`, `out[3]` get the part memory and the mappings make alone: equal
 * from one state to the next when no byte and no mapping changed (the explorer skips invariants
 * that read memory only).
 */
export function machineHashWords(core: MachineCore, mapVersion: number, out: Int32Array): void {
  memoryHashWords(core, mapVersion, out);
  let h1 = out[0]!;
  let h2 = out[1]! ^ Math.imul(core.console.length + 1, 0x165667b1);
  if (out.length >= 4) {
    out[2] = h1;
    out[3] = core.memH2;
  }
  for (const c of core.cpus) {
    if (c.state === OFFLINE && c.cycles === 0) continue;
    hashCpu(c, out);
    h1 = Math.imul(h1 ^ out[0]!, 0x01000193);
    h2 = Math.imul(h2 ^ out[1]!, 0x01000193) ^ (h1 >>> 7);
  }
  out[0] = h1;
  out[1] = h2;
}

/** The part of `machineHashWords` memory and the mappings make alone, in `out[0]`, `out[1]` (brings dirty chunks in; no CPU is hashed). */
export function memoryHashWords(core: MachineCore, mapVersion: number, out: Int32Array): void {
  const dirty = core.dirtyFrames;
  // Most calls find nothing new (the explorer asks at every state): setting an array's length is not free.
  if (dirty.length !== 0) hashDirty(core, dirty, out);
  out[0] = core.memH1 ^ Math.imul(mapVersion + 1, 0x27d4eb2d);
  out[1] = core.memH2;
}

function hashDirty(core: MachineCore, dirty: Frame[], out: Int32Array): void {
  for (const f of dirty) {
    let mask = f.dirtyMask;
    for (let k = 0; mask !== 0; k++, mask >>>= 1) {
      if ((mask & 1) === 0) continue;
      core.memH1 ^= f.chunkHash[2 * k]!;
      core.memH2 ^= f.chunkHash[2 * k + 1]!;
      hashChunk(f, k, out);
      f.chunkHash[2 * k] = out[0]!;
      f.chunkHash[2 * k + 1] = out[1]!;
      core.memH1 ^= out[0]!;
      core.memH2 ^= out[1]!;
    }
    f.dirtyMask = 0;
  }
  dirty.length = 0;
}

/** Captures the core; call after hashing so the chunk hashes are current. */
export function captureState(core: MachineCore, extras: MachineExtras): MachineState {
  return {
    frames: captureFrames(core),
    tables: captureTables(core),
    spaces: core.spaces.slice(),
    cpus: saveCpus(core),
    watches: core.watches.slice(),
    scalars: { nextPfn: core.nextPfn, writeSeq: core.writeSeq, memH1: core.memH1, memH2: core.memH2, console: core.console },
    extras,
  };
}

/** Puts the core back as captured (execution-watch flags are left for the caller to reapply) and returns the extras. */
export function restoreState(core: MachineCore, st: MachineState): MachineExtras {
  restoreFrames(core, st.frames);
  restoreTables(core, st.tables);
  core.spaces.length = 0;
  core.spaces.push(...st.spaces);
  loadCpus(core, st.cpus);
  core.watches.length = 0;
  core.watches.push(...st.watches);
  const s = st.scalars;
  core.nextPfn = s.nextPfn;
  core.writeSeq = s.writeSeq;
  core.memH1 = s.memH1;
  core.memH2 = s.memH2;
  core.console = s.console;
  return st.extras;
}

/** Checks that a value is a snapshot this machine can take back (same arch, CPU count, memory size and timing). */
export function checkSnapshot(snapshot: unknown, want: MachineIdentity): MachineState {
  const st = (snapshot as { state?: unknown } | null)?.state as Partial<MachineState> | undefined;
  const id = st?.extras?.identity;
  if (typeof snapshot !== 'object' || snapshot === null || typeof st !== 'object' || !Array.isArray(st.frames) || !(st.cpus?.bytes instanceof Uint8Array) || id === undefined) {
    throw new CpuError('KERNSIM_CPU_SNAPSHOT', `restore needs a snapshot from machine.snapshot(), got ${snapshot === null ? 'null' : typeof snapshot === 'object' ? `an object with keys [${Object.keys(snapshot).join(', ')}]` : typeof snapshot}`);
  }
  for (const k of ['arch', 'cpus', 'memoryMiB', 'timing'] as const) {
    if (id[k] !== want[k]) throw new CpuError('KERNSIM_CPU_SNAPSHOT', `snapshot has ${k} ${String(id[k])}, this machine ${String(want[k])}`);
  }
  return st as MachineState;
}
