// Random encodings of the instruction forms the oracle checks: each iced `Code` of the
// instruction table that a user-mode program can run deterministically, with operands
// that keep every memory access inside the data page the harness maps.
import { Code, CodeExt, Encoder, EncodingKind, Instruction, MemoryOperand, Mnemonic, OpCodeOperandKind as K, Register } from 'iced-x86';
import { BY_MNEMONIC } from '../../src/machine/isa/table.js';
import { CODE, DATA } from '../../src/testing/golden.js';
import type { Rng } from '../../src/testing/golden.js';

export { CODE, DATA };


/** Names of table rows the oracle leaves out: privileged, nondeterministic or machine-specific results. */
const SKIP_NAMES = new Set(['cpuid', 'rdtsc', 'rdtscp', 'sgdt', 'str', 'int3', 'int', 'ud2', 'syscall', 'sysretq', 'hlt', 'in', 'out', 'cli', 'sti', 'lidt', 'sidt', 'invlpg', 'wbinvd', 'swapgs', 'rdmsr', 'wrmsr', 'iret', 'pushf', 'popf', 'ret']);

export interface Form {
  readonly code: Code;
  readonly name: string;
  readonly kinds: readonly K[];
  readonly lock: boolean;
  readonly string: boolean;
}

const GPR_KINDS = new Set([K.mem_offs, K.r8_or_mem, K.r16_or_mem, K.r32_or_mem, K.r64_or_mem, K.r8_reg, K.r8_opcode, K.r16_reg, K.r16_rm, K.r16_opcode, K.r32_reg, K.r32_rm, K.r32_opcode, K.r32_vvvv, K.r64_reg, K.r64_rm, K.r64_opcode, K.r64_vvvv, K.mem, K.al, K.cl, K.ax, K.dx, K.eax, K.rax, K.imm8, K.imm8_const_1, K.imm8sex16, K.imm8sex32, K.imm8sex64, K.imm16, K.imm32, K.imm32sex64, K.imm64, K.br16_1, K.br32_1, K.br64_1, K.br32_4, K.br64_4, K.seg_rSI, K.es_rDI, K.seg_rBX_al]);

/** Every form of a table instruction the oracle can run in `bitness`-bit mode. */
export function oracleForms(bitness: 32 | 64): Form[] {
  const out: Form[] = [];
  const codes = Object.values(Code).filter((v): v is Code => typeof v === 'number');
  for (const code of codes) {
    const info = CodeExt.opCode(code);
    const entry = BY_MNEMONIC.get(info.mnemonic);
    if (!entry || entry.names.some((n) => SKIP_NAMES.has(n))) continue;
    if (!info.isInstruction || info.decoderOption !== 0 || !(bitness === 64 ? info.mode64 && info.amdDecoder64 : info.mode32 && info.amdDecoder32)) continue;
    if (info.encoding !== EncodingKind.Legacy && info.encoding !== EncodingKind.VEX) continue;
    if (info.operandSize === 16 && isBranchMnemonic(info.mnemonic)) continue;
    if (info.addressSize === 16) continue;
    const kinds = Array.from({ length: info.opCount }, (_, i) => info.opKind(i));
    if (!kinds.every((k) => GPR_KINDS.has(k))) continue;
    if (info.mnemonic === Mnemonic.Jmp || info.mnemonic === Mnemonic.Call) {
      if (!kinds.every((k) => k >= K.br16_1 && k <= K.br64_4)) continue;
    }
    out.push({ code, name: Code[code], kinds, lock: info.canUseLockPrefix, string: kinds.some((k) => k === K.seg_rSI || k === K.es_rDI) });
  }
  return out;
}

const BRANCHES = new Set([Mnemonic.Jmp, Mnemonic.Call, Mnemonic.Loop, Mnemonic.Loope, Mnemonic.Loopne, Mnemonic.Jrcxz, Mnemonic.Jecxz, Mnemonic.Jcxz]);
function isBranchMnemonic(mn: Mnemonic): boolean {
  return BRANCHES.has(mn) || (mn >= Mnemonic.Ja && mn <= Mnemonic.Js && Mnemonic[mn].startsWith('J'));
}

const R8_64 = [Register.AL, Register.CL, Register.DL, Register.BL, Register.SPL, Register.BPL, Register.SIL, Register.DIL, Register.R8L, Register.R9L, Register.R10L, Register.R11L, Register.R12L, Register.R13L, Register.R14L, Register.R15L];
const R8_32 = [Register.AL, Register.CL, Register.DL, Register.BL, Register.AH, Register.CH, Register.DH, Register.BH];
const BASE: Record<number, Register> = { 2: Register.AX, 4: Register.EAX, 8: Register.RAX };

/** Register `i` (0..15) of the width whose first register is `first`: iced numbers each width's registers in order. */
function nth(first: Register, i: number): Register {
  // eslint-disable-next-line @typescript-eslint/no-unsafe-enum-assignment -- arithmetic on iced's consecutive register numbers
  return first + i;
}

/** A general register of `size` bytes (number `n`): rSP is left out so the stack stays in the data page. */
function gpr(rng: Rng, size: number, bitness: number): Register {
  const n = bitness === 64 ? 16 : 8;
  let i = rng.int(n);
  if (i === 4) i = 0;
  if (size === 1) return bitness === 64 && rng.chance(0.7) ? R8_64[i]! : R8_32[i & 7]!;
  return nth(BASE[size]!, i);
}

/** Register values the generator chose besides the seed's: index -> value. */
export type Overrides = Map<number, bigint>;

/** A memory operand inside the data page; the base and index values go into `regs`. */
function memory(rng: Rng, bitness: number, regs: Overrides): MemoryOperand {
  const off = 0x200n + BigInt(rng.int(0xc00));
  const addr32 = bitness === 32 || rng.chance(0.1);
  const wide = addr32 ? Register.EAX : Register.RAX;
  const n = bitness === 64 ? 16 : 8;
  const shape = rng.int(bitness === 64 ? 5 : 4);
  if (shape === 0) return new MemoryOperand(Register.None, Register.None, 1, DATA + off, addr32 ? 4 : 8, false, Register.None);
  if (shape === 4) return new MemoryOperand(Register.RIP, Register.None, 1, DATA + off, 8, false, Register.None);
  let b = rng.int(n);
  const disp = shape === 1 ? 0n : BigInt(rng.int(256) - 128);
  if (b === 4 && rng.chance(0.7)) b = 3;
  const base = nth(wide, b);
  if (b !== 4) regs.set(b, DATA + off - disp);
  else regs.set(4, DATA + 0x800n);
  if (shape !== 3) return new MemoryOperand(base, Register.None, 1, BigInt.asUintN(64, disp), disp === 0n ? 0 : 1, false, Register.None);
  let x = rng.int(n);
  if (x === 4 || x === b) x = b === 0 ? 1 : 0;
  const scale = rng.pick([1, 2, 4, 8]);
  const k = BigInt(rng.int(16));
  regs.set(x, k);
  if (b !== 4) regs.set(b, DATA + off - disp - k * BigInt(scale));
  return new MemoryOperand(base, nth(wide, x), scale, BigInt.asUintN(64, disp), disp === 0n ? 0 : 1, false, Register.None);
}

const WIDTH: Partial<Record<K, number>> = { [K.r8_or_mem]: 1, [K.r16_or_mem]: 2, [K.r32_or_mem]: 4, [K.r64_or_mem]: 8, [K.r8_reg]: 1, [K.r8_opcode]: 1, [K.r16_reg]: 2, [K.r16_rm]: 2, [K.r16_opcode]: 2, [K.r32_reg]: 4, [K.r32_rm]: 4, [K.r32_opcode]: 4, [K.r32_vvvv]: 4, [K.r64_reg]: 8, [K.r64_rm]: 8, [K.r64_opcode]: 8, [K.r64_vvvv]: 8 };
const FIXED: Partial<Record<K, Register>> = { [K.al]: Register.AL, [K.cl]: Register.CL, [K.ax]: Register.AX, [K.dx]: Register.DX, [K.eax]: Register.EAX, [K.rax]: Register.RAX };

type Arg = { t: 'Reg'; v: Register } | { t: 'Mem'; v: MemoryOperand } | { t: 'I32'; v: number } | { t: 'U64'; v: bigint };

function immediate(rng: Rng, k: K): Arg {
  if (k === K.imm64) return { t: 'U64', v: BigInt.asUintN(64, (BigInt(rng.next()) << 32n) | BigInt(rng.next())) };
  if (k === K.imm8_const_1) return { t: 'I32', v: 1 };
  const bits = k === K.imm16 ? 16 : k === K.imm32 || k === K.imm32sex64 ? 32 : 8;
  const v = rng.chance(0.3) ? rng.pick([0, 1, 2, 7, 8, 15, 16, 31, 32, 33, 63, 64, -1]) : rng.next() | 0;
  const signed = k === K.imm8sex16 || k === K.imm8sex32 || k === K.imm8sex64 || k === K.imm32sex64 || k === K.imm32;
  if (signed) return { t: 'I32', v: (v << (32 - bits)) >> (32 - bits) };
  return { t: 'I32', v: bits === 32 ? v | 0 : v & ((1 << bits) - 1) };
}

function operandArg(rng: Rng, k: K, bitness: number, regs: Overrides, memFirst: boolean): Arg {
  const fixed = FIXED[k];
  if (fixed !== undefined) return { t: 'Reg', v: fixed };
  const w = WIDTH[k];
  const orMem = k === K.r8_or_mem || k === K.r16_or_mem || k === K.r32_or_mem || k === K.r64_or_mem;
  if (k === K.mem_offs) return { t: 'Mem', v: new MemoryOperand(Register.None, Register.None, 1, DATA + 0x200n + BigInt(rng.int(0xc00)), bitness === 64 ? 8 : 4, false, Register.None) };
  if (k === K.mem || (orMem && memFirst)) return { t: 'Mem', v: memory(rng, bitness, regs) };
  if (w !== undefined) return { t: 'Reg', v: gpr(rng, w, bitness) };
  return immediate(rng, k);
}

/** Filler a branch jumps over: `not %edi` (2 bytes, no flags), so taken and not taken differ in EDI. */
export const FILLER = [0xf7, 0xd7];

/** Encodes one random instance of `form` at `ip`; returns its bytes (with a filler after a branch) or undefined. */
export function encodeForm(rng: Rng, form: Form, bitness: 32 | 64, ip: bigint, regs: Overrides): Uint8Array | undefined {
  if (form.string) return undefined;
  const kinds = form.kinds;
  const isBranch = kinds.some((k) => k >= K.br16_1 && k <= K.br64_4);
  let instr: Instruction;
  let mem: MemoryOperand | undefined;
  if (isBranch) {
    // Encode twice: the branch length depends on nothing but the form, the target on the length.
    const probe = Instruction.createBranch(form.code, ip + 16n);
    const len = encode(probe, bitness, ip)?.length ?? 0;
    probe.free();
    instr = Instruction.createBranch(form.code, ip + BigInt(len + FILLER.length));
  } else if (kinds.length === 1 && kinds[0] === K.seg_rBX_al) {
    const addr32 = bitness === 32 || rng.chance(0.2);
    regs.set(3, DATA + 0x400n + BigInt(rng.int(0x800)));
    mem = new MemoryOperand(addr32 ? Register.EBX : Register.RBX, Register.AL, 1, 0n, 0, false, Register.None);
    instr = Instruction.createMem(form.code, mem);
  } else {
    const memFirst = rng.chance(0.5);
    const args = kinds.map((k) => operandArg(rng, k, bitness, regs, memFirst));
    const name = `create${args.map((a) => a.t).join('')}`;
    const make = (Instruction as unknown as Record<string, (...xs: unknown[]) => Instruction>)[name];
    if (!make) return undefined;
    instr = make.call(Instruction, form.code, ...args.map((a) => a.v));
  }
  const bytes = encode(instr, bitness, ip);
  instr.free();
  if (!bytes) return undefined;
  return isBranch ? Uint8Array.from([...bytes, ...FILLER]) : bytes;
}

function encode(instr: Instruction, bitness: number, ip: bigint): Uint8Array | undefined {
  const enc = new Encoder(bitness);
  try {
    enc.encode(instr, ip);
    return enc.takeBuffer();
  } catch {
    return undefined;
  } finally {
    enc.free();
  }
}

const STRING_OPS = [0xa4, 0xa6, 0xaa, 0xac, 0xae];

/** A random string instruction: any of movs/cmps/stos/lods/scas, any width and rep prefix. */
export function encodeString(rng: Rng, bitness: 32 | 64, regs: Overrides): Uint8Array {
  const out: number[] = [];
  const rep = rng.pick([0, 0xf3, 0xf2]);
  if (rep) out.push(rep);
  const addr32 = bitness === 64 && rng.chance(0.2);
  if (addr32) out.push(0x67);
  const width = rng.pick(bitness === 64 ? [1, 2, 4, 8] : [1, 2, 4]);
  if (width === 2) out.push(0x66);
  if (width === 8) out.push(0x48);
  out.push(rng.pick(STRING_OPS) + (width === 1 ? 0 : 1));
  regs.set(1, BigInt(rng.int(rep ? 12 : 3)));
  regs.set(6, DATA + 0x300n + BigInt(rng.int(0x100)));
  regs.set(7, DATA + 0x800n + BigInt(rng.int(0x100)));
  return Uint8Array.from(out);
}
