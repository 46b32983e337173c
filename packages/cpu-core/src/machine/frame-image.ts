import type { LowerTable, MachineCore } from './core.js';
import { F_CLEAN, F_CODE, F_SHARED, F_XWATCH, Frame } from './frame.js';

// Snapshots of physical memory that cost what changed, not what exists. A frame's image is
// immutable and shared by every snapshot taken while the frame did not change (`Frame.image`
// says which image the live frame equals), so a snapshot copies only the frames written since
// the previous one, and a restore rewrites only the frames that differ from the target's images.

/** One frame as a snapshot keeps it: its bytes (shared copy-on-write) and everything a write changes. */
export interface FrameImage {
  readonly pfn: number;
  readonly data: Uint8Array;
  /** The frame's flags without F_SHARED, F_CLEAN and F_XWATCH (execution watches are reapplied by the machine). */
  readonly flags: number;
  readonly chunk: Int32Array;
  readonly log: readonly [number[], number[], number[], number[]];
  readonly lastWriteSeq: number;
  readonly lines: readonly [Int16Array, Float64Array] | null;
}

const KEPT = ~(F_SHARED | F_CLEAN | F_XWATCH);

/** The image of a frame as it is now: the one it already equals when nothing changed since, else a new one sharing its bytes. */
export function captureFrame(f: Frame): FrameImage {
  const flags = f.flags & KEPT;
  const old = f.image;
  // A frame still equal to its image keeps F_SHARED or F_CLEAN until its next write: nothing to mark.
  if (old !== null && old.flags === flags) return old;
  f.flags = (f.flags & ~F_CLEAN) | F_SHARED;
  const img: FrameImage = {
    pfn: f.pfn,
    data: f.data,
    flags,
    chunk: f.chunkHash.slice(),
    log: [f.logOff.slice(), f.logOld.slice(), f.logSeq.slice(), f.logCpu.slice()],
    lastWriteSeq: f.lastWriteSeq,
    lines: f.lineOwner === null ? null : [f.lineOwner.slice(), f.lineBusy!.slice()],
  };
  f.image = img;
  return img;
}

/**
 * Makes the frame equal to the image; a frame that already equals it is left alone. A frame
 * with bytes of its own (written since it was last shared: no image holds them) gets the
 * image's bytes copied in and keeps them, so the path's next writes allocate nothing; otherwise
 * it shares the image's bytes copy-on-write.
 */
export function restoreFrame(f: Frame, s: FrameImage): void {
  if (f.image === s && (f.flags & KEPT) === s.flags) return;
  if (f.data !== s.data) {
    if ((f.flags & F_SHARED) === 0) {
      f.data.set(s.data);
      f.flags = s.flags | F_CLEAN;
    } else {
      f.adopt(s.data);
      f.flags = s.flags | F_SHARED;
    }
    f.ops = null;
    f.blocks = null;
  } else f.flags = s.flags | F_SHARED;
  if ((f.flags & F_CODE) !== 0) f.ops ??= new Array<undefined>(4096).fill(undefined);
  f.chunkHash.set(s.chunk);
  restoreLog(f, s.log);
  f.lastWriteSeq = s.lastWriteSeq;
  restoreLines(f, s.lines);
  f.dirtyMask = 0;
  f.image = s;
}

function restoreLog(f: Frame, log: FrameImage['log']): void {
  if (log[0].length === 0 && f.logOff.length === 0) return;
  [f.logOff, f.logOld, f.logSeq, f.logCpu] = [log[0].slice(), log[1].slice(), log[2].slice(), log[3].slice()];
}

function restoreLines(f: Frame, lines: FrameImage['lines']): void {
  if (lines === null) {
    f.lineOwner = null;
    f.lineBusy = null;
  } else if (f.lineOwner !== null) {
    // The frame's arrays are its own (images hold copies): overwrite them in place.
    f.lineOwner.set(lines[0]);
    f.lineBusy!.set(lines[1]);
  } else {
    f.lineOwner = lines[0].slice();
    f.lineBusy = lines[1].slice();
  }
}

/** Every frame's image, in the core's frame order. */
export function captureFrames(core: MachineCore): FrameImage[] {
  const out = new Array<FrameImage>(core.frames.size);
  let i = 0;
  for (const f of core.frames.values()) out[i++] = captureFrame(f);
  return out;
}

/** Puts physical memory back as the images say: frames the snapshot lacks are dropped, missing ones recreated. */
export function restoreFrames(core: MachineCore, images: readonly FrameImage[]): void {
  // The images are in the core's frame order, which rarely changes: walk both together and look a frame up only where they part.
  const live = core.frames.values();
  let inStep = true;
  for (const s of images) {
    let f: Frame | undefined;
    if (inStep) {
      f = live.next().value;
      if (f?.pfn !== s.pfn) inStep = false;
    }
    if (!inStep) f = core.frames.get(s.pfn);
    if (!f) {
      f = new Frame(s.pfn, s.data);
      core.frames.set(s.pfn, f);
    }
    restoreFrame(f, s);
  }
  if (core.frames.size !== images.length) {
    const keep = new Set(images.map((s) => s.pfn));
    for (const pfn of [...core.frames.keys()]) if (!keep.has(pfn)) core.frames.delete(pfn);
  }
  core.dirtyFrames.length = 0;
}

/** The page tables' entries (the direct map left out: it never changes). */
export type TablesImage = ReadonlyMap<number, ReadonlyMap<number, number>>;

/** The tables image the live tables equal, per core; dropped by every change to a table (`tablesChanged`). */
const liveTables = new WeakMap<MachineCore, TablesImage>();

/** Mapping or unmapping changed the tables: the next snapshot copies them. */
export function tablesChanged(core: MachineCore): void {
  liveTables.delete(core);
}

export function captureTables(core: MachineCore): TablesImage {
  const live = liveTables.get(core);
  if (live) return live;
  const tables = new Map<number, Map<number, number>>();
  for (const [pfn, t] of core.tables) if (!t.direct) tables.set(pfn, new Map(t.ptes));
  liveTables.set(core, tables);
  return tables;
}

export function restoreTables(core: MachineCore, st: TablesImage): void {
  if (liveTables.get(core) === st) return;
  for (const pfn of [...core.tables.keys()]) if (!core.tables.get(pfn)!.direct && !st.has(pfn)) core.tables.delete(pfn);
  for (const [pfn, ptes] of st) core.tables.set(pfn, { direct: false, ptes: new Map(ptes) } satisfies LowerTable);
  liveTables.set(core, st);
}
