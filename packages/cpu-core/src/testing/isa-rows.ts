// Hand-written cases for the instructions of issue 17 and its four bugs, as data: machine
// code bytes, the state before, and the documented effect (SDM). src/machine/isa/isa.test.ts
// runs them; instructions.test.ts counts their `covers` toward SUPPORTED_MNEMONICS.
import type { RegName } from '../machine/cpu-view.js';
import { LAYOUT32, LAYOUT64 } from './kit.js';

export interface IsaRow {
  readonly name: string;
  readonly arch: 'x86_64' | 'i386';
  /** Entries of SUPPORTED_MNEMONICS this row executes. */
  readonly covers: readonly string[];
  readonly bytes: readonly number[];
  readonly regs?: Partial<Record<RegName, bigint>>;
  readonly flagsIn?: bigint;
  readonly memIn?: readonly (readonly [bigint, 1 | 2 | 4 | 8, bigint])[];
  readonly expect?: Partial<Record<RegName, bigint>>;
  readonly set?: bigint;
  readonly clear?: bigint;
  readonly mem?: readonly (readonly [bigint, 1 | 2 | 4 | 8, bigint])[];
  /** The run ends in this exception (first fault), instead of at the final hlt. */
  readonly fault?: number;
}

export const CF = 1n;
export const PF = 4n;
export const ZF = 0x40n;
export const SF = 0x80n;
export const OF = 0x800n;
const D = LAYOUT64.data;
const D32 = LAYOUT32.data;
/** The low 32 bits of an address, little-endian: a disp32 (sign-extended to D in 64-bit mode). */
const at = (a: bigint): number[] => [0, 8, 16, 24].map((s) => Number((a >> BigInt(s)) & 0xffn));
const NEG = (v: bigint): bigint => BigInt.asUintN(64, v);

const rows64: Omit<IsaRow, 'arch'>[] = [
  // The four bugs of issue 17.
  { name: 'rol sets OF (count 1): MSB(result) xor CF', covers: ['rol'], bytes: [0x48, 0xd1, 0xc0], regs: { rax: 0x4000000000000000n }, expect: { rax: 0x8000000000000000n }, set: OF, clear: CF },
  { name: 'ror sets OF (count 1): the two top bits of the result', covers: ['ror'], bytes: [0xd1, 0xc8], regs: { rax: 1n }, expect: { rax: 0x80000000n }, set: OF | CF },
  { name: 'rol by 1 clears a stale OF', covers: ['rol'], bytes: [0x48, 0xd1, 0xc0], regs: { rax: 1n }, flagsIn: 0x802n, expect: { rax: 2n }, clear: OF },
  { name: 'xadd with the same register writes the sum last', covers: ['xadd'], bytes: [0x48, 0x0f, 0xc1, 0xc0], regs: { rax: 5n }, expect: { rax: 10n } },
  { name: 'F2 on movs repeats like F3', covers: ['rep movs'], bytes: [0xf2, 0xa4], regs: { rsi: D, rdi: D + 0x10n, rcx: 3n }, memIn: [[D, 4, 0x00332211n]], expect: { rcx: 0n, rsi: D + 3n, rdi: D + 0x13n }, mem: [[D + 0x10n, 4, 0x332211n]] },
  { name: 'F2 on stos repeats like F3', covers: ['rep stos'], bytes: [0xf2, 0x48, 0xab], regs: { rdi: D, rcx: 2n, rax: 7n }, expect: { rcx: 0n, rdi: D + 16n }, mem: [[D + 8n, 8, 7n]] },
  // Multiply and divide.
  { name: 'mul r64: rdx:rax, CF=OF when the high half is used', covers: ['mul'], bytes: [0x48, 0xf7, 0xe3], regs: { rax: NEG(-1n), rbx: 2n }, expect: { rax: NEG(-2n), rdx: 1n }, set: CF | OF },
  { name: 'mul r8: ax = al * r/m8', covers: ['mul'], bytes: [0xf6, 0xe3], regs: { rax: 0xf0n, rbx: 0x10n }, expect: { rax: 0xf00n }, set: CF | OF },
  { name: 'imul r64, r/m64', covers: ['imul'], bytes: [0x48, 0x0f, 0xaf, 0xc3], regs: { rax: NEG(-3n), rbx: 5n }, expect: { rax: NEG(-15n) }, clear: CF | OF },
  { name: 'imul r64, r/m64, imm8', covers: ['imul'], bytes: [0x48, 0x6b, 0xc3, 0x07], regs: { rbx: NEG(-2n) }, expect: { rax: NEG(-14n) } },
  { name: 'imul r/m64 (one operand, signed rdx:rax)', covers: ['imul'], bytes: [0x48, 0xf7, 0xeb], regs: { rax: NEG(-2n), rbx: 3n }, expect: { rax: NEG(-6n), rdx: NEG(-1n) }, clear: CF | OF },
  { name: 'imul overflow sets CF and OF', covers: ['imul'], bytes: [0x0f, 0xaf, 0xc3], regs: { rax: 0x10000n, rbx: 0x10000n }, expect: { rax: 0n }, set: CF | OF },
  { name: 'div r64', covers: ['div'], bytes: [0x48, 0xf7, 0xf3], regs: { rax: 100n, rdx: 0n, rbx: 7n }, expect: { rax: 14n, rdx: 2n } },
  { name: 'div by zero raises #DE', covers: ['div'], bytes: [0x48, 0xf7, 0xf3], regs: { rax: 1n, rdx: 0n, rbx: 0n }, fault: 0 },
  { name: 'div with a quotient too large raises #DE', covers: ['div'], bytes: [0xf7, 0xf3], regs: { rax: 0n, rdx: 1n, rbx: 1n }, fault: 0 },
  { name: 'idiv r64 truncates toward zero', covers: ['idiv'], bytes: [0x48, 0xf7, 0xfb], regs: { rax: NEG(-100n), rdx: NEG(-1n), rbx: 7n }, expect: { rax: NEG(-14n), rdx: NEG(-2n) } },
  { name: 'idiv of the most negative value by -1 raises #DE', covers: ['idiv'], bytes: [0x48, 0xf7, 0xfb], regs: { rax: 0x8000000000000000n, rdx: NEG(-1n), rbx: NEG(-1n) }, fault: 0 },
  // Conditions.
  { name: 'sete', covers: ['setcc'], bytes: [0x0f, 0x94, 0xc0], regs: { rax: 0xff00n }, flagsIn: 0x42n, expect: { rax: 0xff01n } },
  { name: 'setl to memory', covers: ['setcc'], bytes: [0x0f, 0x9c, 0x04, 0x25, ...at(D)], flagsIn: 0x882n, memIn: [[D, 1, 0x55n]], mem: [[D, 1, 0n]] },
  { name: 'cmove moves when ZF', covers: ['cmovcc'], bytes: [0x48, 0x0f, 0x44, 0xc3], regs: { rax: 1n, rbx: 2n }, flagsIn: 0x42n, expect: { rax: 2n } },
  { name: 'cmovne r32 not taken still zero-extends', covers: ['cmovcc'], bytes: [0x0f, 0x45, 0xc3], regs: { rax: NEG(-1n), rbx: 2n }, flagsIn: 0x42n, expect: { rax: 0xffffffffn } },
  // Bits.
  { name: 'bt r64, r64', covers: ['bt'], bytes: [0x48, 0x0f, 0xa3, 0xc8], regs: { rax: 0x10n, rcx: 4n }, expect: { rax: 0x10n }, set: CF },
  { name: 'lock bts m64, r64 reaches past the operand', covers: ['bts'], bytes: [0xf0, 0x48, 0x0f, 0xab, 0x0c, 0x25, ...at(D)], regs: { rcx: 65n }, mem: [[D + 8n, 8, 2n]], clear: CF },
  { name: 'btr r64, imm8', covers: ['btr'], bytes: [0x48, 0x0f, 0xba, 0xf0, 0x03], regs: { rax: 0xfn }, expect: { rax: 7n }, set: CF },
  { name: 'btc r64, r64', covers: ['btc'], bytes: [0x48, 0x0f, 0xbb, 0xc8], regs: { rax: 0n, rcx: 63n }, expect: { rax: 0x8000000000000000n }, clear: CF },
  { name: 'lock bt is #UD', covers: ['bt'], bytes: [0xf0, 0x48, 0x0f, 0xa3, 0x0c, 0x25, ...at(D)], fault: 6 },
  { name: 'bsf/bsr', covers: ['bsf', 'bsr'], bytes: [0x48, 0x0f, 0xbc, 0xc3, 0x48, 0x0f, 0xbd, 0xcb], regs: { rbx: 0x101n }, expect: { rax: 0n, rcx: 8n }, clear: ZF },
  { name: 'bsf of zero sets ZF and keeps the destination', covers: ['bsf'], bytes: [0x48, 0x0f, 0xbc, 0xc3], regs: { rax: 77n, rbx: 0n }, expect: { rax: 77n }, set: ZF },
  { name: 'popcnt', covers: ['popcnt'], bytes: [0xf3, 0x48, 0x0f, 0xb8, 0xc3], regs: { rbx: 0xff00ffn }, expect: { rax: 16n }, clear: ZF | CF },
  { name: 'lzcnt', covers: ['lzcnt'], bytes: [0xf3, 0x48, 0x0f, 0xbd, 0xc3], regs: { rbx: 1n }, expect: { rax: 63n }, clear: CF | ZF },
  { name: 'tzcnt of zero is the width, CF set', covers: ['tzcnt'], bytes: [0xf3, 0x48, 0x0f, 0xbc, 0xc3], regs: { rbx: 0n }, expect: { rax: 64n }, set: CF },
  { name: 'bswap r64 and r32', covers: ['bswap'], bytes: [0x48, 0x0f, 0xcb, 0x0f, 0xc8], regs: { rbx: 0x0102030405060708n, rax: 0xffffffff11223344n }, expect: { rbx: 0x0807060504030201n, rax: 0x44332211n } },
  { name: 'andn', covers: ['andn'], bytes: [0xc4, 0xe2, 0xf0, 0xf2, 0xc3], regs: { rcx: 0xf0n, rbx: 0xffn }, expect: { rax: 0xfn }, clear: ZF | CF | OF },
  { name: 'shlx/sarx/shrx', covers: ['shlx', 'sarx', 'shrx'], bytes: [0xc4, 0xe2, 0xf1, 0xf7, 0xc3, 0xc4, 0xe2, 0xf2, 0xf7, 0xd3, 0xc4, 0xe2, 0xf3, 0xf7, 0xf3], regs: { rbx: 0x8000000000000010n, rcx: 68n }, expect: { rax: 0x100n, rdx: 0xf800000000000001n, rsi: 0x0800000000000001n } },
  { name: 'crc32 (CRC-32C) of "123456789" is e3069283', covers: ['crc32'], bytes: [0xb8, 0xff, 0xff, 0xff, 0xff, 0xf2, 0x48, 0x0f, 0x38, 0xf1, 0x04, 0x25, ...at(D), 0xf2, 0x0f, 0x38, 0xf0, 0x04, 0x25, ...at(D + 8n), 0xf7, 0xd0], memIn: [[D, 8, 0x3837363534333231n], [D + 8n, 1, 0x39n]], expect: { rax: 0xe3069283n } },
  // Rotates through carry, double shifts.
  { name: 'rcl by 1 through CF', covers: ['rcl'], bytes: [0x48, 0xd1, 0xd0], regs: { rax: 0x8000000000000000n }, expect: { rax: 0n }, set: CF | OF },
  { name: 'rcr by 1 through CF', covers: ['rcr'], bytes: [0x48, 0xd1, 0xd8], regs: { rax: 1n }, flagsIn: 0x3n, expect: { rax: 0x8000000000000000n }, set: CF | OF },
  { name: 'rcl r8 by 9 is the identity (count mod 9)', covers: ['rcl'], bytes: [0xc0, 0xd0, 0x09], regs: { rax: 0x5an }, flagsIn: 0x3n, expect: { rax: 0x5an }, set: CF },
  { name: 'shld/shrd', covers: ['shld', 'shrd'], bytes: [0x48, 0x0f, 0xa4, 0xd8, 0x04, 0x48, 0x0f, 0xac, 0xd1, 0x04], regs: { rax: 1n, rbx: 0xf000000000000000n, rcx: 0x10n, rdx: 0xfn }, expect: { rax: 0x1fn, rcx: 0xf000000000000001n } },
  // Sign extension, flags transfer, table lookup, byte order.
  { name: 'cbw/cwde/cdqe', covers: ['cbw', 'cwde', 'cdqe'], bytes: [0x66, 0x98, 0x98, 0x48, 0x98], regs: { rax: 0x80n }, expect: { rax: NEG(-128n) } },
  { name: 'cwd/cdq/cqo', covers: ['cwd', 'cdq', 'cqo'], bytes: [0x48, 0x99, 0x48, 0x89, 0xd3, 0x99, 0x48, 0x89, 0xd1, 0x31, 0xd2, 0x66, 0x99], regs: { rax: 0xffff8000n }, expect: { rbx: 0n, rcx: 0xffffffffn, rdx: 0xffffn } },
  { name: 'lahf/sahf', covers: ['lahf', 'sahf'], bytes: [0x9f, 0x88, 0xe3, 0xb4, 0xd5, 0x9e], flagsIn: 0x43n, expect: { rbx: 0x43n }, set: CF | PF | ZF | SF },
  { name: 'xlat', covers: ['xlat'], bytes: [0xd7], regs: { rbx: D, rax: 3n }, memIn: [[D, 4, 0x44332211n]], expect: { rax: 0x44n } },
  { name: 'movbe load and store', covers: ['movbe'], bytes: [0x48, 0x0f, 0x38, 0xf0, 0x04, 0x25, ...at(D), 0x0f, 0x38, 0xf1, 0x1c, 0x25, ...at(D + 8n)], regs: { rbx: 0x11223344n }, memIn: [[D, 8, 0x0102030405060708n]], expect: { rax: 0x0807060504030201n }, mem: [[D + 8n, 4, 0x44332211n]] },
  { name: 'movnti', covers: ['movnti'], bytes: [0x48, 0x0f, 0xc3, 0x04, 0x25, ...at(D)], regs: { rax: 0x1234n }, mem: [[D, 8, 0x1234n]] },
  // Strings.
  { name: 'lodsb', covers: ['rep lods'], bytes: [0xac], regs: { rsi: D }, memIn: [[D, 1, 0x42n]], expect: { rax: 0x42n, rsi: D + 1n } },
  { name: 'rep lodsd keeps the last element', covers: ['rep lods'], bytes: [0xf3, 0xad], regs: { rsi: D, rcx: 2n }, memIn: [[D, 8, 0x0000000700000006n]], expect: { rax: 7n, rcx: 0n, rsi: D + 8n } },
  { name: 'repne scasb stops at the match', covers: ['repe/repne scas'], bytes: [0xf2, 0xae], regs: { rdi: D, rcx: 10n, rax: 0x33n }, memIn: [[D, 4, 0x04330201n]], expect: { rcx: 7n, rdi: D + 3n }, set: ZF },
  { name: 'repe cmpsb stops at the difference', covers: ['repe/repne cmps'], bytes: [0xf3, 0xa6], regs: { rsi: D, rdi: D + 0x10n, rcx: 4n }, memIn: [[D, 4, 0x04030201n], [D + 0x10n, 4, 0x04090201n]], expect: { rcx: 1n, rsi: D + 3n, rdi: D + 0x13n }, clear: ZF },
  // Stack frames and loops.
  { name: 'enter 16, 0: frame pointer pushed, 16 bytes reserved', covers: ['enter'], bytes: [0x48, 0x89, 0xe1, 0xc8, 0x10, 0x00, 0x00, 0x48, 0x29, 0xe9, 0x48, 0x89, 0xea, 0x48, 0x29, 0xe2, 0x48, 0x8b, 0x45, 0x00], regs: { rbp: 0x777n }, expect: { rcx: 8n, rdx: 16n, rax: 0x777n } },
  { name: 'enter 8, 1: the new frame pointer is pushed too', covers: ['enter'], bytes: [0xc8, 0x08, 0x00, 0x01, 0x48, 0x89, 0xea, 0x48, 0x29, 0xe2, 0x48, 0x8b, 0x45, 0xf8, 0x48, 0x29, 0xe8], regs: { rbp: 0x777n }, expect: { rdx: 16n, rax: 0n } },
  { name: 'loop counts rcx down', covers: ['loop'], bytes: [0xb9, 0x03, 0, 0, 0, 0x31, 0xc0, 0xff, 0xc0, 0xe2, 0xfc], expect: { rax: 3n, rcx: 0n } },
  { name: 'loope stops when ZF clears', covers: ['loope', 'loopne'], bytes: [0x31, 0xc0, 0xff, 0xc0, 0xe1, 0xfc, 0xe0, 0x00], regs: { rcx: 5n }, expect: { rax: 1n, rcx: 3n } },
  { name: 'jrcxz jumps when rcx is zero', covers: ['jrcxz'], bytes: [0xe3, 0x02, 0xff, 0xc0], regs: { rcx: 0n, rax: 5n }, expect: { rax: 5n } },
  // Atomics.
  { name: 'lock cmpxchg16b stores rcx:rbx when equal', covers: ['cmpxchg16b'], bytes: [0xf0, 0x48, 0x0f, 0xc7, 0x0c, 0x25, ...at(D)], regs: { rax: 1n, rdx: 2n, rbx: 3n, rcx: 4n }, memIn: [[D, 8, 1n], [D + 8n, 8, 2n]], mem: [[D, 8, 3n], [D + 8n, 8, 4n]], set: ZF },
  { name: 'cmpxchg16b misaligned raises #GP', covers: ['cmpxchg16b'], bytes: [0x48, 0x0f, 0xc7, 0x0c, 0x25, ...at(D + 8n)], fault: 13 },
  { name: 'cmpxchg8b loads edx:eax when different', covers: ['cmpxchg8b'], bytes: [0x0f, 0xc7, 0x0c, 0x25, ...at(D)], regs: { rax: 1n, rdx: 2n }, memIn: [[D, 8, 0x0000000900000008n]], expect: { rax: 8n, rdx: 9n }, clear: ZF },
  // System.
  { name: 'rdtscp puts the CPU number in ecx', covers: ['rdtscp'], bytes: [0x0f, 0x01, 0xf9], regs: { rcx: 77n }, expect: { rcx: 0n, rdx: 0n } },
  { name: 'clflush of a mapped line', covers: ['clflush'], bytes: [0x0f, 0xae, 0x3c, 0x25, ...at(D)], memIn: [[D, 8, 5n]], mem: [[D, 8, 5n]] },
  { name: 'clflush of an unmapped line raises #PF', covers: ['clflush'], bytes: [0x0f, 0xae, 0x3c, 0x25, ...at(D - 0x1000n)], fault: 14 },
  { name: 'wbinvd', covers: ['wbinvd'], bytes: [0x0f, 0x09, 0xb8, 0x01, 0, 0, 0], expect: { rax: 1n } },
  { name: 'sgdt stores Linux 3.3 GDT limit; str the TSS selector', covers: ['sgdt', 'str'], bytes: [0x0f, 0x01, 0x04, 0x25, ...at(D), 0x0f, 0x00, 0xc8], regs: { rax: NEG(-1n) }, expect: { rax: 0x40n }, mem: [[D, 2, 0x7fn]] },
];

const rows32: Omit<IsaRow, 'arch'>[] = [
  { name: 'push imm16 (66 6a / 66 68) moves esp by 2', covers: ['push'], bytes: [0x89, 0xe3, 0x66, 0x6a, 0x05, 0x66, 0x68, 0x34, 0x12, 0x29, 0xe3, 0x66, 0x59, 0x66, 0x5a], expect: { ebx: 4n, ecx: 0x1234n, edx: 5n } },
  { name: 'mul/div r32', covers: ['mul', 'div'], bytes: [0xf7, 0xe3, 0xf7, 0xf1], regs: { eax: 0x80000000n, ebx: 4n, ecx: 8n }, expect: { eax: 0x40000000n, edx: 0n } },
  { name: 'idiv by zero raises #DE', covers: ['idiv'], bytes: [0xf7, 0xf9], regs: { ecx: 0n }, fault: 0 },
  { name: 'cmpxchg8b stores ecx:ebx when equal', covers: ['cmpxchg8b'], bytes: [0xf0, 0x0f, 0xc7, 0x0d, ...at(D32)], regs: { eax: 1n, edx: 2n, ebx: 3n, ecx: 4n }, memIn: [[D32, 8, 0x0000000200000001n]], mem: [[D32, 8, 0x0000000400000003n]], set: ZF },
  { name: 'loop with ecx, setcc, bswap', covers: ['loop', 'setcc', 'bswap'], bytes: [0x31, 0xc0, 0x40, 0xe2, 0xfd, 0x0f, 0x94, 0xc3, 0x0f, 0xca], regs: { ecx: 4n, ebx: 0x100n, edx: 0x11223344n }, expect: { eax: 4n, ecx: 0n, ebx: 0x100n, edx: 0x44332211n } },
  { name: 'a 4-byte access wrapping past 4 GiB raises #GP', covers: ['mov'], bytes: [0x8b, 0x02], regs: { edx: 0xfffffffen }, fault: 13 },
];

export const ISA_ROWS: readonly IsaRow[] = [...rows64.map((r) => ({ ...r, arch: 'x86_64' as const })), ...rows32.map((r) => ({ ...r, arch: 'i386' as const }))];
