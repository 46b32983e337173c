import { MemorySize, OpKind, Register } from 'iced-x86';
import type { Instruction } from 'iced-x86';
import type { CpuState } from './cpu.js';
import { rd, wr } from './bus.js';
import { eaSource } from './block-source.js';

/** An operand compiled to accessors: `get` returns the low 32 bits (high half in `c.vh`). */
export interface Loc {
  readonly size: number;
  readonly mem: boolean;
  readonly get: (c: CpuState) => number;
  readonly set: (c: CpuState, lo: number, hi: number) => void;
  /** For memory operands: computes the effective address into c.eaLo/c.eaHi. */
  readonly ea: (c: CpuState) => void;
  /** For memory operands: read/write at the address computed last by `ea`. */
  readonly getAt: (c: CpuState) => number;
  readonly setAt: (c: CpuState, lo: number, hi: number) => void;
}

const noop = (): void => undefined;

/** Register number (0..15), width in bytes and whether it is one of ah/ch/dh/bh. */
export function regInfo(r: Register): { idx: number; size: number; high: boolean } | undefined {
  if (r >= Register.AL && r <= Register.BL) return { idx: r - Register.AL, size: 1, high: false };
  if (r >= Register.AH && r <= Register.BH) return { idx: r - Register.AH, size: 1, high: true };
  if (r >= Register.SPL && r <= Register.R15L) return { idx: r - Register.SPL + 4, size: 1, high: false };
  if (r >= Register.AX && r <= Register.R15W) return { idx: r - Register.AX, size: 2, high: false };
  if (r >= Register.EAX && r <= Register.R15D) return { idx: r - Register.EAX, size: 4, high: false };
  if (r >= Register.RAX && r <= Register.R15) return { idx: r - Register.RAX, size: 8, high: false };
  return undefined;
}

export function regLoc(r: Register): Loc | undefined {
  const info = regInfo(r);
  if (!info) return undefined;
  const i = info.idx;
  const base = { size: info.size, mem: false, ea: noop };
  let get: Loc['get'];
  let set: Loc['set'];
  switch (info.size) {
    case 8:
      get = (c) => {
        c.vh = c.hi[i]!;
        return c.lo[i]!;
      };
      set = (c, lo, hi) => {
        c.lo[i] = lo;
        c.hi[i] = hi;
      };
      break;
    case 4:
      get = (c) => {
        c.vh = 0;
        return c.lo[i]!;
      };
      set = (c, lo) => {
        c.lo[i] = lo;
        c.hi[i] = 0;
      };
      break;
    case 2:
      get = (c) => {
        c.vh = 0;
        return c.lo[i]! & 0xffff;
      };
      set = (c, lo) => {
        c.lo[i] = (c.lo[i]! & 0xffff0000) | (lo & 0xffff);
      };
      break;
    default:
      if (info.high) {
        get = (c) => {
          c.vh = 0;
          return (c.lo[i]! >>> 8) & 0xff;
        };
        set = (c, lo) => {
          c.lo[i] = (c.lo[i]! & 0xffff00ff) | ((lo & 0xff) << 8);
        };
      } else {
        get = (c) => {
          c.vh = 0;
          return c.lo[i]! & 0xff;
        };
        set = (c, lo) => {
          c.lo[i] = (c.lo[i]! & 0xffffff00) | (lo & 0xff);
        };
      }
  }
  return { ...base, get, set, getAt: get, setAt: set };
}

const MEM_SIZES = new Map<MemorySize, number>([
  [MemorySize.UInt8, 1],
  [MemorySize.Int8, 1],
  [MemorySize.UInt16, 2],
  [MemorySize.Int16, 2],
  [MemorySize.UInt32, 4],
  [MemorySize.Int32, 4],
  [MemorySize.UInt64, 8],
  [MemorySize.Int64, 8],
  [MemorySize.WordOffset, 2],
  [MemorySize.DwordOffset, 4],
  [MemorySize.QwordOffset, 8],
]);

export function memSize(instr: Instruction): number | undefined {
  return MEM_SIZES.get(instr.memorySize);
}

/** Builds the effective-address computation of the instruction's memory operand (segment base included unless `noSeg`). */
export function eaFn(instr: Instruction, is64: boolean, noSeg: boolean): ((c: CpuState) => void) | undefined {
  const baseReg = instr.memoryBase;
  const indexReg = instr.memoryIndex;
  const scale = instr.memoryIndexScale;
  let disp: bigint;
  let b = -1;
  let x = -1;
  let addr32 = !is64;
  if (baseReg === Register.RIP || baseReg === Register.EIP) {
    disp = instr.memoryDisplacementU64;
    if (baseReg === Register.EIP) addr32 = true;
  } else {
    disp = BigInt.asUintN(64, instr.memoryDisplacementU64);
    if (baseReg !== Register.None) {
      const bi = regInfo(baseReg);
      if (!bi || bi.size < 4) return undefined;
      b = bi.idx;
      if (bi.size === 4) addr32 = true;
    }
    if (indexReg !== Register.None) {
      const xi = regInfo(indexReg);
      if (!xi || xi.size < 4) return undefined;
      x = xi.idx;
      if (xi.size === 4) addr32 = true;
    }
  }
  if (addr32) disp &= 0xffffffffn;
  const dlo = Number(disp & 0xffffffffn);
  const dhi = Number((disp >> 32n) & 0xffffffffn);
  const seg = noSeg ? 0 : instr.memorySegment === Register.GS ? 2 : instr.memorySegment === Register.FS ? 1 : 0;
  if (b < 0 && x < 0 && seg === 0) {
    const eh = addr32 ? 0 : dhi;
    const absolute = (c: CpuState): void => {
      c.eaLo = dlo;
      c.eaHi = eh;
    };
    return eaSource(absolute, `c.eaLo = ${dlo}; c.eaHi = ${eh};`);
  }
  if (b >= 0 && x < 0 && seg === 0) {
    if (addr32) {
      const base32 = (c: CpuState): void => {
        c.eaLo = (c.lo[b]! + dlo) >>> 0;
        c.eaHi = 0;
      };
      return eaSource(base32, `c.eaLo = (L[${b}] + ${dlo}) >>> 0; c.eaHi = 0;`);
    }
    const base64 = (c: CpuState): void => {
      const l = c.lo[b]! + dlo;
      c.eaLo = l >>> 0;
      c.eaHi = (c.hi[b]! + dhi + (l > 0xffffffff ? 1 : 0)) >>> 0;
    };
    return eaSource(base64, `{ const l = L[${b}] + ${dlo}; c.eaLo = l >>> 0; c.eaHi = (H[${b}] + ${dhi} + (l > 0xffffffff ? 1 : 0)) >>> 0; }`);
  }
  if (b < 0 && x < 0) return segmentPlusDisplacement(seg === 2, dlo, dhi, is64);
  return generalAddress(b, x, scale, dlo, dhi, seg, addr32, is64);
}

/** Base, index and scale, displacement and segment base, in any combination (`b`/`x` -1: none; `seg` 0 none, 1 FS, 2 GS). */
function generalAddress(b: number, x: number, scale: number, dlo: number, dhi: number, seg: number, addr32: boolean, is64: boolean): (c: CpuState) => void {
  return (c) => {
    let l = dlo;
    let h = dhi;
    if (b >= 0) {
      l += c.lo[b]!;
      h += c.hi[b]!;
    }
    if (x >= 0) {
      l += c.lo[x]! * scale;
      h += c.hi[x]! * scale;
    }
    if (addr32) {
      // A 32-bit address (i386, or the 0x67 prefix) wraps before a segment base is added.
      l %= 4294967296;
      h = 0;
    }
    if (seg === 2) {
      l += c.gsLo;
      h += c.gsHi;
    } else if (seg === 1) {
      l += c.fsLo;
      h += c.fsHi;
    }
    h += (l / 4294967296) | 0;
    c.eaLo = l >>> 0;
    c.eaHi = addr32 && seg === 0 ? 0 : h >>> 0;
    if (!is64) c.eaHi = 0;
  };
}

/**
 * A segment base plus a displacement — the kernel's per-CPU accesses (`%gs:disp`, i386
 * `%fs:disp`) — without the general form's branches on base, index and segment.
 */
function segmentPlusDisplacement(gs: boolean, dlo: number, dhi: number, is64: boolean): (c: CpuState) => void {
  const segment = (c: CpuState): void => {
    const l = (gs ? c.gsLo : c.fsLo) + dlo;
    c.eaLo = l >>> 0;
    c.eaHi = is64 ? ((gs ? c.gsHi : c.fsHi) + dhi + (l > 0xffffffff ? 1 : 0)) >>> 0 : 0;
  };
  const s = gs ? 'gs' : 'fs';
  return eaSource(segment, `{ const l = c.${s}Lo + ${dlo}; c.eaLo = l >>> 0; c.eaHi = ${is64 ? `(c.${s}Hi + ${dhi} + (l > 0xffffffff ? 1 : 0)) >>> 0` : '0'}; }`);
}

export function memLoc(ea: (c: CpuState) => void, size: number): Loc {
  return {
    size,
    mem: true,
    ea,
    get: (c) => {
      ea(c);
      return rd(c, c.eaLo, c.eaHi, size);
    },
    set: (c, lo, hi) => {
      ea(c);
      wr(c, c.eaLo, c.eaHi, size, lo, hi);
    },
    getAt: (c) => rd(c, c.eaLo, c.eaHi, size),
    setAt: (c, lo, hi) => {
      wr(c, c.eaLo, c.eaHi, size, lo, hi);
    },
  };
}

/** An immediate at an operand's width (sign-extended by the decoder, truncated here) as [low, high] 32-bit halves. */
export function immHalves(value: bigint, size: number): [number, number] {
  const v = BigInt.asUintN(size * 8, value);
  return [Number(v & 0xffffffffn), Number(v >> 32n)];
}

export function immLoc(value: bigint, size: number): Loc {
  const [lo, hi] = immHalves(value, size);
  const get = (c: CpuState): number => {
    c.vh = hi;
    return lo;
  };
  return { size, mem: false, ea: noop, get, set: noop, getAt: get, setAt: noop };
}

export function isImm(k: OpKind): boolean {
  return (
    k === OpKind.Immediate8 ||
    k === OpKind.Immediate16 ||
    k === OpKind.Immediate32 ||
    k === OpKind.Immediate64 ||
    k === OpKind.Immediate8to16 ||
    k === OpKind.Immediate8to32 ||
    k === OpKind.Immediate8to64 ||
    k === OpKind.Immediate32to64 ||
    k === OpKind.Immediate8_2nd
  );
}

/** Compiles operand `n` of the instruction (register, memory or immediate) at the given size. */
export function operand(instr: Instruction, n: number, size: number, is64: boolean): Loc | undefined {
  const k = instr.opKind(n);
  if (k === OpKind.Register) return regLoc(instr.opRegister(n));
  if (k === OpKind.Memory) {
    const ea = eaFn(instr, is64, false);
    return ea ? memLoc(ea, size) : undefined;
  }
  if (isImm(k)) return immLoc(instr.immediate(n), size);
  return undefined;
}
